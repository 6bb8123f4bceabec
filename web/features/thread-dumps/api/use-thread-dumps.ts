import { Code } from "@connectrpc/connect";
import {
  FleetService,
  type ThreadDumpView,
  type WatchThreadDumpsResponse,
} from "../../../../gen/stallwatch/v1/fleet_pb";
import { queryKeys } from "../../../shared/query-keys";
import { useClient } from "../../../shared/transport-context";
import { useStreamedQuery } from "../../../shared/use-streamed-query";

/** The current and the previous dump (for the diff), and the last round's error. */
export interface ThreadDumps {
  current?: ThreadDumpView;
  previous?: ThreadDumpView;
  error?: string;
}

/** Pure: the dumps after one message. */
export function foldThreadDumps(
  dumps: ThreadDumps,
  message: WatchThreadDumpsResponse,
): ThreadDumps {
  return message.dump
    ? { current: message.dump, ...(dumps.current ? { previous: dumps.current } : {}) }
    : { ...dumps, error: message.error };
}

/**
 * Live thread dumps of one worker while mounted and not paused. Another
 * interval reopens the stream and keeps the dumps. Dropped as soon as no
 * page shows them (gcTime 0): a diff against a dump from an earlier visit
 * would show changes that are minutes old as if they were the last second's.
 */
export function useThreadDumps(workerId: string, intervalMs: number, paused: boolean) {
  const client = useClient(FleetService);
  const { data, status, fatal } = useStreamedQuery<WatchThreadDumpsResponse, ThreadDumps>({
    queryKey: queryKeys.threadDumps(workerId),
    streamKey: `${workerId}/${intervalMs}`,
    open: (signal) => client.watchThreadDumps({ workerId, intervalMs }, { signal }),
    fold: (dumps, message) => {
      // For bench/ui.bench.ts: render time is measured from here to groups on screen.
      if (message.dump) performance.mark("stallwatch:dump-received");
      return foldThreadDumps(dumps, message);
    },
    initial: {},
    enabled: !paused,
    fatalCodes: [Code.NotFound, Code.InvalidArgument],
    idleTimeoutMs: 20_000,
    gcTime: 0,
  });
  return { ...data, status, fatal };
}
