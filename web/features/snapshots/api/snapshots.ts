import { Code, ConnectError } from "@connectrpc/connect";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { SnapshotService, type Snapshot } from "../../../../gen/stallwatch/v1/snapshot_pb";
import {
  shareText,
  summarizeSnapshot,
  worstStalled,
} from "../../../../server/snapshots/snapshot-summary";
import { queryKeys } from "../../../shared/query-keys";
import { useClient } from "../../../shared/transport-context";

export function useSnapshotList() {
  const client = useClient(SnapshotService);
  return useQuery({
    queryKey: queryKeys.snapshots.list(),
    queryFn: ({ signal }) => client.listSnapshots({ limit: 50 }, { signal, timeoutMs: 5000 }),
  });
}

/**
 * One snapshot; immutable, so cached for good. NotFound is not retried.
 * Without a worker it is fetched without worker details (the fleet view);
 * with one, with only that worker's detail.
 */
export function useSnapshot(id: string, workerId?: string) {
  const client = useClient(SnapshotService);
  return useQuery({
    queryKey: queryKeys.snapshots.one(id, workerId),
    queryFn: ({ signal }) => {
      if (knownMissing(id))
        throw new ConnectError("no such snapshot: it never existed or has expired", Code.NotFound);
      return client.getSnapshot(workerId ? { id, workerId } : { id, summary: true }, {
        signal,
        timeoutMs: 15_000,
      });
    },
    staleTime: Infinity,
    retry: (count, err) => ConnectError.from(err).code !== Code.NotFound && count < 2,
  });
}

/** The permalink of a snapshot: a worker's snapshot opens on that worker's page. */
export function snapshotPath(id: string, workerId?: string): string {
  return workerId ? `/snapshots/${id}/workers/${encodeURIComponent(workerId)}` : `/snapshots/${id}`;
}

/**
 * The page may say up front that a snapshot does not exist: the gateway
 * renders `/snapshots/:id` itself (for link unfurls) and knows. Asking the
 * API anyway would only add a 404 to the console.
 */
function knownMissing(id: string): boolean {
  if (typeof document === "undefined") return false;
  const meta = document.querySelector<HTMLMetaElement>('meta[name="stallwatch:snapshot-missing"]');
  return meta?.content === id;
}

/**
 * Creates a snapshot, then reads back what it holds to write the summary for
 * the incident channel: a worker's snapshot in full, the fleet's as a
 * summary plus the detail of the worker with the longest-stalled session
 * (for "thread not moving").
 */
export function useCreateSnapshot() {
  const client = useClient(SnapshotService);
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (input: { workerId?: string; note?: string }) => {
      const { info } = await client.createSnapshot(
        { workerId: input.workerId ?? "", note: input.note ?? "" },
        { timeoutMs: 15_000 },
      );
      const id = info?.id ?? "";
      const link = `${window.location.origin}${snapshotPath(id, input.workerId)}`;
      let snapshot: Snapshot | undefined;
      try {
        snapshot = await readForSummary(client, id, input.workerId);
      } catch {
        // The permalink is what matters; a summary that cannot be read is left out.
      }
      return { id, link, text: snapshot ? shareText(summarizeSnapshot(snapshot), link) : link };
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.snapshots.all }),
  });
}

async function readForSummary(
  client: ReturnType<typeof useClient<typeof SnapshotService>>,
  id: string,
  workerId: string | undefined,
): Promise<Snapshot | undefined> {
  const opts = { timeoutMs: 10_000 };
  if (workerId) return (await client.getSnapshot({ id, workerId }, opts)).snapshot;
  const snapshot = (await client.getSnapshot({ id, summary: true }, opts)).snapshot;
  const worst = snapshot && worstStalled(snapshot)?.workerId;
  if (snapshot && worst) {
    const one = await client.getSnapshot({ id, workerId: worst }, opts);
    snapshot.details = one.snapshot?.details ?? [];
  }
  return snapshot;
}
