import { Code, type ConnectError } from "@connectrpc/connect";
import { useState } from "react";
import { FleetService, type WorkerDetail } from "../../../../gen/stallwatch/v1/fleet_pb";
import { useClient } from "../../../app/transport-context";
import { useServerStream, type StreamState } from "../../../shared/use-stream";

/** One worker's detail, live (WatchWorker), over a 1, 5 or 15 minute window. */
export function useWorkerWatch(
  workerId: string,
  windowMinutes: number,
): { detail: WorkerDetail | undefined; fatal: ConnectError | undefined } & StreamState {
  const client = useClient(FleetService);
  const [detail, setDetail] = useState<WorkerDetail | undefined>(undefined);
  const stream = useServerStream(
    `${workerId}/${windowMinutes}`,
    (signal) => client.watchWorker({ workerId, windowMinutes }, { signal }),
    (message) => setDetail(message.detail),
    { fatalCodes: [Code.NotFound, Code.InvalidArgument] },
  );
  return { detail: detail?.worker?.id === workerId ? detail : undefined, ...stream };
}
