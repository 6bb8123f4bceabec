import { useMutation, useQueryClient } from "@tanstack/react-query";
import { SnapshotService, type Snapshot } from "../../../../gen/stallwatch/v1/snapshot_pb";
import {
  shareText,
  summarizeSnapshot,
  worstStalled,
} from "../../../../server/shared/words/snapshot-summary";
import { queryKeys } from "../../../shared/query-keys";
import { snapshotPath } from "../../../shared/snapshot-path";
import { useClient } from "../../../shared/transport-context";

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
