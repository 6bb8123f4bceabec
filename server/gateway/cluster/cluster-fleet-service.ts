import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  FleetTotalsSchema,
  GetWorkerResponseSchema,
  ListEventsResponseSchema,
  ListStalledSessionsResponseSchema,
  ListWorkersRequestSchema,
  ListWorkersResponseSchema,
  WatchFleetResponseSchema,
  WatchStalledSessionsResponseSchema,
  WatchWorkerResponseSchema,
  type FleetService,
  type FleetTotals,
  type SessionView,
  type WatchFleetResponse,
  type WorkerDetail,
} from "../../../gen/stallwatch/v1/fleet_pb.js";
import type { Clock } from "../../shared/clock/clock.js";
import { BoundedQueue } from "../../shared/streams/bounded-queue.js";
import type { FleetReader } from "../fleet/fleet-reader.js";
import type { Logger } from "../../shared/logging/logger.js";
import type { Store } from "../store/store.js";
import type { ClusterFront, PeerEvent } from "./cluster-front.js";
import { FleetMerge, LOCAL } from "./fleet-merge.js";

type Local = ServiceImpl<typeof FleetService>;
type Item = PeerEvent | { kind: "local"; msg: WatchFleetResponse } | { kind: "local-end" };

/** Deadline on a call forwarded to a peer. */
const PEER_CALL_MS = 5_000;
const KEEPALIVE_MS = 5_000;

function sumTotals(parts: (FleetTotals | undefined)[]): FleetTotals {
  const out = create(FleetTotalsSchema, {});
  for (const t of parts) {
    if (!t) continue;
    out.sessionsFinished += t.sessionsFinished;
    out.sessionsCancelled += t.sessionsCancelled;
    out.sessionsFailed += t.sessionsFailed;
    out.rowsIn += t.rowsIn;
    out.rowsOut += t.rowsOut;
    out.bytesIn += t.bytesIn;
    out.bytesOut += t.bytesOut;
    out.workWallNanos += t.workWallNanos;
    out.workCpuNanos += t.workCpuNanos;
  }
  return out;
}

/**
 * The browser's FleetService in a cluster: the whole fleet, this gateway's
 * workers merged with what its peers stream (each id once, see
 * FleetMerge); a worker page or thread dump of a peer's worker is served by
 * that peer; events come from the shared database.
 */
export function createClusterFleetService(
  local: Local,
  deps: {
    fleet: FleetReader;
    front: ClusterFront;
    store: Pick<Store, "listEvents">;
    log: Logger;
    clock: Clock;
  },
): Local {
  const { fleet, front, store, clock } = deps;
  const ownerOf = (id: string) => (fleet.get(id) ? undefined : front.ownerOf(id));
  const peerTotals = () => front.peers().map((p) => p.totals);
  /**
   * A worker's recent events from the shared database: its history under
   * earlier owners too, not only what the gateway serving it now recorded.
   */
  const sharedEvents = async (detail: WorkerDetail | undefined) => {
    if (!detail?.worker) return;
    try {
      detail.events = await store.listEvents({ workerId: detail.worker.id, limit: 50 });
    } catch (err) {
      deps.log.debug({ err: (err as Error).message }, "worker events from the database failed");
    }
  };

  /** Every connected peer's stalled sessions; a peer that does not answer in time is left out, logged. */
  const peersStalled = async (signal: AbortSignal): Promise<SessionView[]> => {
    const theirs = await Promise.all(
      front
        .peers()
        .filter((p) => p.connected)
        .map((p) =>
          p.fleet.listStalledSessions({}, { signal, timeoutMs: PEER_CALL_MS }).then(
            (r) => r.sessions,
            (err: unknown) => {
              deps.log.warn(
                { peer: p.member.gatewayId, err: (err as Error).message },
                "a peer's stalled sessions are missing",
              );
              return [];
            },
          ),
        ),
    );
    return theirs.flat();
  };

  return {
    async listWorkers(request, context) {
      const mine = create(ListWorkersResponseSchema, await local.listWorkers(request, context));
      const merge = new FleetMerge(front.rank);
      merge.apply(LOCAL, mine.workers, [], true);
      for (const [source, rows] of front.rows) merge.apply(source, [...rows.values()], [], true);
      return create(ListWorkersResponseSchema, { workers: merge.all(), asOfMs: mine.asOfMs });
    },

    async *watchFleet(request, context) {
      const merge = new FleetMerge(front.rank);
      const queue = new BoundedQueue<Item>(10_000, clock);
      const unsubscribe = front.subscribe((e) => queue.push(e));
      const stop = new AbortController();
      const signal = AbortSignal.any([context.signal, stop.signal]);
      let localTotals: FleetTotals | undefined;
      const pump = (async () => {
        try {
          for await (const msg of local.watchFleet(request, { ...context, signal })) {
            queue.push({ kind: "local", msg: create(WatchFleetResponseSchema, msg) });
          }
        } finally {
          queue.push({ kind: "local-end" });
        }
      })();
      const fullState = () => {
        for (const [source, rows] of front.rows) merge.apply(source, [...rows.values()], [], true);
        return create(WatchFleetResponseSchema, {
          fullState: true,
          workers: merge.all(),
          asOfMs: BigInt(clock.now()),
          totals: sumTotals([localTotals, ...peerTotals()]),
        });
      };
      try {
        let started = false;
        for (;;) {
          const items = await queue.takeAll(signal, KEEPALIVE_MS);
          if (items === undefined) break;
          if (queue.overflowed) {
            // Missed changes: start over from every source's current rows.
            queue.overflowed = false;
            const mine = create(
              ListWorkersResponseSchema,
              await local.listWorkers(create(ListWorkersRequestSchema, {}), context),
            );
            merge.apply(LOCAL, mine.workers, [], true);
            yield fullState();
            continue;
          }
          const delta = create(WatchFleetResponseSchema, { asOfMs: BigInt(clock.now()) });
          // The last change of each worker id wins: its row, or null once removed.
          const latest = new Map<string, (typeof delta.workers)[number] | null>();
          const take = (c: { upserts: typeof delta.workers; removed: string[] }) => {
            for (const w of c.upserts) latest.set(w.id, w);
            for (const id of c.removed) latest.set(id, null);
          };
          let ended = false;
          for (const item of items) {
            if (item.kind === "local") {
              localTotals = item.msg.totals ?? localTotals;
              take(
                merge.apply(LOCAL, item.msg.workers, item.msg.removedWorkerIds, item.msg.fullState),
              );
            } else if (item.kind === "local-end") ended = true;
            else if (item.kind === "rows")
              take(merge.apply(item.source, item.workers, item.removed, item.full));
            else if (item.kind === "rank") take(merge.rerank(item.source));
            else take(merge.dropSource(item.source));
          }
          if (ended) break;
          if (!started) {
            // The first local message is its full state: answer with the whole fleet.
            if (localTotals === undefined && !items.some((i) => i.kind === "local")) continue;
            started = true;
            yield fullState();
            continue;
          }
          for (const [id, row] of latest) {
            if (row) delta.workers.push(row);
            else delta.removedWorkerIds.push(id);
          }
          delta.totals = sumTotals([localTotals, ...peerTotals()]);
          yield delta;
        }
      } finally {
        unsubscribe();
        stop.abort();
        await pump.catch(() => {});
      }
    },

    async getWorker(request, context) {
      const peer = ownerOf(request.workerId);
      const answer = peer
        ? await peer.fleet.getWorker(request, { signal: context.signal, timeoutMs: PEER_CALL_MS })
        : create(GetWorkerResponseSchema, await local.getWorker(request, context));
      await sharedEvents(answer.detail);
      return answer;
    },

    async *watchWorker(request, context) {
      const peer = ownerOf(request.workerId);
      const updates = peer
        ? peer.fleet.watchWorker(request, { signal: context.signal })
        : local.watchWorker(request, context);
      for await (const update of updates) {
        const message = create(WatchWorkerResponseSchema, update);
        await sharedEvents(message.detail);
        yield message;
      }
    },

    async *watchThreadDumps(request, context) {
      const peer = ownerOf(request.workerId);
      if (peer) yield* peer.fleet.watchThreadDumps(request, { signal: context.signal });
      else yield* local.watchThreadDumps(request, context);
    },

    async listStalledSessions(request, context) {
      const mine = create(
        ListStalledSessionsResponseSchema,
        await local.listStalledSessions(request, context),
      );
      return create(ListStalledSessionsResponseSchema, {
        sessions: [...mine.sessions, ...(await peersStalled(context.signal))],
        asOfMs: mine.asOfMs,
      });
    },

    // Paced by this gateway's own stream (its clock and interval): each of its
    // lists is sent with the peers' as of then.
    async *watchStalledSessions(request, context) {
      for await (const update of local.watchStalledSessions(request, context)) {
        const mine = create(WatchStalledSessionsResponseSchema, update);
        yield create(WatchStalledSessionsResponseSchema, {
          sessions: [...mine.sessions, ...(await peersStalled(context.signal))],
          asOfMs: mine.asOfMs,
        });
      }
    },

    async listEvents(request) {
      // Every gateway writes its events to the shared database.
      return create(ListEventsResponseSchema, {
        events: await store.listEvents({
          ...(request.workerId ? { workerId: request.workerId } : {}),
          ...(request.kind ? { kind: request.kind } : {}),
          limit: Math.min(request.limit || 200, 1000),
        }),
      });
    },
  };
}
