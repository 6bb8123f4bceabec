import { Code, type ConnectError } from "@connectrpc/connect";
import {
  FleetService,
  type WatchWorkerResponse,
  type WorkerDetail,
} from "../../../../gen/stallwatch/v1/fleet_pb";
import { queryKeys } from "../../../shared/query-keys";
import { useClient } from "../../../shared/transport-context";
import type { StreamState } from "../../../shared/use-stream";
import { useStreamedQuery } from "../../../shared/use-streamed-query";

/**
 * One worker's detail, live (WatchWorker), over a 1, 5 or 15 minute window.
 * Another window reopens the stream and keeps the detail on screen until
 * the new one arrives. Dropped as soon as no page shows it (gcTime 0): a
 * detail from an earlier visit would pass for the current one.
 */
export function useWorkerWatch(
  workerId: string,
  windowMinutes: number,
): { detail: WorkerDetail | undefined; fatal: ConnectError | undefined } & StreamState {
  const client = useClient(FleetService);
  const { data, ...stream } = useStreamedQuery<WatchWorkerResponse, WorkerDetail | undefined>({
    queryKey: queryKeys.worker(workerId),
    streamKey: `${workerId}/${windowMinutes}`,
    open: (signal) => client.watchWorker({ workerId, windowMinutes }, { signal }),
    fold: (_detail, message) => message.detail,
    initial: undefined,
    fatalCodes: [Code.NotFound, Code.InvalidArgument],
    gcTime: 0,
  });
  return { detail: data, ...stream };
}
