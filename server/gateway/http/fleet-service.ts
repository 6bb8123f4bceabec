import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  FleetService,
  GetWorkerResponseSchema,
  ListEventsResponseSchema,
  ListStalledSessionsResponseSchema,
  ListWorkersResponseSchema,
  WatchFleetResponseSchema,
  WatchStalledSessionsResponseSchema,
  WatchThreadDumpsResponseSchema,
  WatchWorkerResponseSchema,
  type WatchFleetResponse,
} from "../../../gen/stallwatch/v1/fleet_pb.js";
import { sleep, type Clock } from "../../shared/clock/clock.js";
import type { EventLog } from "../events/event-log.js";
import type { StatusCollector } from "../status-intake/status-collector.js";
import { BoundedQueue } from "../../shared/streams/bounded-queue.js";
import type { FleetDelta } from "../fleet/change-feed.js";
import type { FleetReader } from "../fleet/fleet-reader.js";
import type { TrackedWorker } from "../fleet/tracked-worker.js";
import { toWorkerDetail, toWorkerMessage } from "../fleet/worker-message.js";

export interface FleetServiceDeps {
  fleet: FleetReader;
  events: EventLog;
  collector: Pick<StatusCollector, "totals" | "watch" | "collectNow" | "stalledSessions">;
  clock: Clock;
}

export interface FleetServiceOptions {
  /** Deltas buffered per watcher before it is resynced with a full state. */
  maxQueuedDeltas?: number;
  /** An empty message at least this often, so clients can tell "quiet" from "cut off". */
  keepaliveMs?: number;
  /** How often WatchWorker re-sends a worker's detail, and WatchStalledSessions the list. */
  workerRefreshMs?: number;
}

const MINUTE = 60_000;

/** The dashboard's read API over the fleet registry. */
export function createFleetService(
  deps: FleetServiceDeps,
  opts: FleetServiceOptions = {},
): ServiceImpl<typeof FleetService> {
  const { fleet, events, collector } = deps;
  const clock = deps.clock;
  const maxQueued = opts.maxQueuedDeltas ?? 64;
  const keepaliveMs = opts.keepaliveMs ?? 5000;
  const workerRefreshMs = opts.workerRefreshMs ?? 1000;

  const fullState = (): WatchFleetResponse =>
    create(WatchFleetResponseSchema, {
      fullState: true,
      workers: fleet.all().map(toWorkerMessage),
      asOfMs: BigInt(clock.now()),
      totals: collector.totals(),
    });

  const requireWorker = (id: string): TrackedWorker => {
    const worker = fleet.get(id);
    if (!worker)
      throw new ConnectError(`no worker "${id.slice(0, 200)}" in the fleet`, Code.NotFound);
    return worker;
  };

  const windowMs = (minutes: number): number => {
    if (minutes > 15)
      throw new ConnectError("window_minutes must be at most 15", Code.InvalidArgument);
    return (minutes || 5) * MINUTE;
  };

  const detail = (worker: TrackedWorker, window: number) =>
    toWorkerDetail(worker, window, events.list({ workerId: worker.id, limit: 50 }), clock.now());

  return {
    listWorkers() {
      return create(ListWorkersResponseSchema, {
        workers: fleet.all().map(toWorkerMessage),
        asOfMs: BigInt(clock.now()),
      });
    },

    async *watchFleet(_request, context) {
      const queue = new BoundedQueue<FleetDelta>(maxQueued, clock);
      const unsubscribe = fleet.subscribe((delta) => queue.push(delta));
      try {
        yield fullState();
        for (;;) {
          const deltas = await queue.takeAll(context.signal, keepaliveMs);
          if (deltas === undefined) break; // the client went away
          if (queue.overflowed) {
            queue.overflowed = false;
            yield fullState();
            continue;
          }
          const delta = mergeDeltas(deltas, clock.now());
          delta.totals = collector.totals();
          yield delta;
        }
      } finally {
        unsubscribe();
      }
    },

    getWorker(request) {
      const worker = requireWorker(request.workerId);
      return create(GetWorkerResponseSchema, {
        detail: detail(worker, windowMs(request.windowMinutes)),
        asOfMs: BigInt(clock.now()),
      });
    },

    async *watchWorker(request, context) {
      const window = windowMs(request.windowMinutes);
      const worker = requireWorker(request.workerId);
      const release = collector.watch(worker.id);
      try {
        while (!context.signal.aborted) {
          // The worker may have been removed and re-added under the same id.
          const current = fleet.get(worker.id) ?? worker;
          yield create(WatchWorkerResponseSchema, {
            detail: detail(current, window),
            asOfMs: BigInt(clock.now()),
          });
          await sleep(clock, workerRefreshMs, context.signal);
        }
      } finally {
        release();
      }
    },

    async *watchThreadDumps(request, context) {
      const worker = requireWorker(request.workerId);
      const intervalMs = request.intervalMs === 0 ? 2000 : request.intervalMs;
      if (intervalMs < 1000 || intervalMs > 5000) {
        throw new ConnectError("interval_ms must be between 1000 and 5000", Code.InvalidArgument);
      }
      const release = collector.watch(worker.id);
      try {
        let lastId = "";
        while (!context.signal.aborted) {
          const dump = await collector.collectNow(worker, "watch");
          if (dump && dump.id !== lastId) {
            lastId = dump.id;
            yield create(WatchThreadDumpsResponseSchema, { dump });
          } else if (!dump) {
            yield create(WatchThreadDumpsResponseSchema, {
              error:
                worker.agent?.connected || worker.beamStatus
                  ? "the worker did not answer the status request in time"
                  : "this worker has no agent or Beam status stream, so no thread dumps",
            });
          }
          await sleep(clock, intervalMs, context.signal);
        }
      } finally {
        release();
      }
    },

    listStalledSessions() {
      return create(ListStalledSessionsResponseSchema, {
        sessions: collector.stalledSessions(),
        asOfMs: BigInt(clock.now()),
      });
    },

    async *watchStalledSessions(_request, context) {
      while (!context.signal.aborted) {
        yield create(WatchStalledSessionsResponseSchema, {
          sessions: collector.stalledSessions(),
          asOfMs: BigInt(clock.now()),
        });
        await sleep(clock, workerRefreshMs, context.signal);
      }
    },

    listEvents(request) {
      const limit = Math.min(request.limit || 200, 1000);
      return create(ListEventsResponseSchema, {
        events: events.list({ workerId: request.workerId, kind: request.kind, limit }),
      });
    },
  };
}

/** Several batches as one message; a worker changed twice is sent once. */
function mergeDeltas(deltas: FleetDelta[], nowMs: number): WatchFleetResponse {
  const changed = new Map<string, FleetDelta["changed"][number]>();
  const removed = new Set<string>();
  let asOfMs = nowMs;
  for (const delta of deltas) {
    for (const worker of delta.changed) {
      changed.set(worker.id, worker);
      removed.delete(worker.id);
    }
    for (const id of delta.removedIds) {
      changed.delete(id);
      removed.add(id);
    }
    asOfMs = delta.asOfMs;
  }
  return create(WatchFleetResponseSchema, {
    fullState: false,
    workers: [...changed.values()].map(toWorkerMessage),
    removedWorkerIds: [...removed],
    asOfMs: BigInt(asOfMs),
  });
}
