import { Code, ConnectError } from "@connectrpc/connect";
import { useQuery } from "@tanstack/react-query";
import { SnapshotService } from "../../../../gen/stallwatch/v1/snapshot_pb";
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
