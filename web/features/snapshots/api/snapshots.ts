import { Code, ConnectError } from "@connectrpc/connect";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { SnapshotService } from "../../../../gen/stallwatch/v1/snapshot_pb";
import { useClient } from "../../../app/transport-context";

const snapshotsKey = ["stallwatch", "snapshots"] as const;

export function useSnapshotList() {
  const client = useClient(SnapshotService);
  return useQuery({
    queryKey: [...snapshotsKey, "list"],
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
    queryKey: [...snapshotsKey, "one", id, workerId ?? ""],
    queryFn: ({ signal }) =>
      client.getSnapshot(workerId ? { id, workerId } : { id, summary: true }, {
        signal,
        timeoutMs: 15_000,
      }),
    staleTime: Infinity,
    retry: (count, err) => ConnectError.from(err).code !== Code.NotFound && count < 2,
  });
}

export function useCreateSnapshot() {
  const client = useClient(SnapshotService);
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: { workerId?: string; note?: string }) =>
      client.createSnapshot(
        { workerId: input.workerId ?? "", note: input.note ?? "" },
        { timeoutMs: 15_000 },
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: snapshotsKey }),
  });
}
