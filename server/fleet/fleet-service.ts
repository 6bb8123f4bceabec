import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  FleetService,
  ListWorkersResponseSchema,
  WatchFleetResponseSchema,
  type WatchFleetResponse,
} from "../../gen/stallwatch/v1/fleet_pb.js";
import { BoundedQueue } from "./bounded-queue.js";
import type { Fleet, FleetDelta } from "./fleet.js";
import { toWorkerMessage } from "./worker-message.js";

export interface FleetServiceOptions {
  /** Deltas buffered per watcher before it is resynced with a full state. */
  maxQueuedDeltas?: number;
  /** An empty message at least this often, so clients can tell "quiet" from "cut off". */
  keepaliveMs?: number;
}

/** The dashboard's read API over the fleet registry. */
export function createFleetService(
  fleet: Fleet,
  opts: FleetServiceOptions = {},
): Partial<ServiceImpl<typeof FleetService>> {
  const maxQueued = opts.maxQueuedDeltas ?? 64;
  const keepaliveMs = opts.keepaliveMs ?? 5000;

  const fullState = (): WatchFleetResponse =>
    create(WatchFleetResponseSchema, {
      fullState: true,
      workers: fleet.all().map(toWorkerMessage),
      asOfMs: BigInt(Date.now()),
    });

  return {
    listWorkers() {
      return create(ListWorkersResponseSchema, {
        workers: fleet.all().map(toWorkerMessage),
        asOfMs: BigInt(Date.now()),
      });
    },

    async *watchFleet(_request, context) {
      const queue = new BoundedQueue<FleetDelta>(maxQueued);
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
          yield mergeDeltas(deltas);
        }
      } finally {
        unsubscribe();
      }
    },
  };
}

/** Several batches as one message; a worker changed twice is sent once. */
function mergeDeltas(deltas: FleetDelta[]): WatchFleetResponse {
  const changed = new Map<string, FleetDelta["changed"][number]>();
  const removed = new Set<string>();
  let asOfMs = Date.now();
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
