import { Code } from "@connectrpc/connect";
import { useState } from "react";
import { FleetService, type ThreadDumpView } from "../../../../gen/stallwatch/v1/fleet_pb";
import { useClient } from "../../../app/transport-context";
import { useServerStream } from "../../../shared/use-stream";

/**
 * Live thread dumps of one worker while mounted and not paused; keeps the
 * current and the previous dump (for the diff).
 */
export function useThreadDumps(workerId: string, intervalMs: number, paused: boolean) {
  const client = useClient(FleetService);
  const [dumps, setDumps] = useState<{
    current?: ThreadDumpView;
    previous?: ThreadDumpView;
    error?: string;
  }>({});
  const stream = useServerStream(
    paused ? `paused:${workerId}` : `${workerId}/${intervalMs}`,
    (signal) =>
      paused
        ? (async function* idle() {
            // Paused: hold the stream closed without counting as a failure.
            await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
            yield* [];
          })()
        : client.watchThreadDumps({ workerId, intervalMs }, { signal }),
    (message) => {
      // For bench/ui.bench.ts: render time is measured from here to groups on screen.
      if (message.dump) performance.mark("stallwatch:dump-received");
      setDumps((d) =>
        message.dump
          ? { current: message.dump, ...(d.current ? { previous: d.current } : {}) }
          : { ...d, error: message.error },
      );
    },
    {
      fatalCodes: [Code.NotFound, Code.InvalidArgument],
      idleTimeoutMs: paused ? 3_600_000 : 20_000,
    },
  );
  return { ...dumps, status: stream.status, fatal: stream.fatal };
}
