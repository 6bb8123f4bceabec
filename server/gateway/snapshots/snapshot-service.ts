import type { Clock } from "../../shared/clock/clock.js";
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  CreateSnapshotResponseSchema,
  DeleteSnapshotResponseSchema,
  GetSnapshotResponseSchema,
  ListSnapshotsResponseSchema,
  SnapshotInfoSchema,
  SnapshotService,
  type Snapshot,
  type SnapshotInfo,
} from "../../../gen/stallwatch/v1/snapshot_pb.js";
import type { ActionStore } from "../store/action-store.js";
import { Role } from "../../../gen/stallwatch/v1/control_pb.js";
import {
  identifyCaller,
  requireOperator,
  requireSnapshotLister,
  type AuthConfig,
  type Caller,
} from "../auth/caller.js";
import type { EventLog } from "../events/event-log.js";
import type { FleetReader } from "../fleet/fleet-reader.js";
import type { Logger } from "../../shared/logging/logger.js";
import { createLogOnce } from "../../shared/logging/log-once.js";
import { peerAddressKey } from "../../shared/net/peer-address.js";
import type { StatusCollector } from "../status-intake/status-collector.js";
import type { Profile } from "../../../gen/stallwatch/v1/profile_pb.js";
import { captureSnapshot } from "./build-snapshot.js";
import { newestEndedFirst, profilesForSnapshot, profilesForView } from "./snapshot-profiles.js";
import { decodeSnapshotView, encodeSnapshot } from "./snapshot-codec.js";
import type { RateScope, SnapshotRateLimit } from "./snapshot-rate-limit.js";
import type { SnapshotStore } from "../store/snapshot-store.js";

export interface SnapshotServiceDeps {
  clock: Clock;
  fleet: FleetReader;
  events: EventLog;
  collector: StatusCollector;
  store: SnapshotStore & Pick<ActionStore, "listAudit">;
  /** The gateway's profiles, newest first (ProfileBook.list): a snapshot keeps the latest per worker. */
  profiles?: () => readonly Profile[];
  /** Adds what other gateways of a cluster hold to a snapshot built from this one's fleet. */
  gatherShards?: (snapshot: Snapshot) => Promise<void>;
  auth: AuthConfig;
  retentionMs: number;
  /** Budget for `CreateSnapshot` per caller and overall. */
  rateLimit: SnapshotRateLimit;
  /** Reports created and refused snapshots (metrics). */
  onCreated?: () => void;
  onRefused?: (scope: RateScope) => void;
  log: Logger;
}

/** 128 random bits, URL-safe: unguessable permalinks. */
export function newSnapshotId(): string {
  return randomBytes(16).toString("base64url");
}

const SNAPSHOT_ID = /^[A-Za-z0-9_-]{22,64}$/;

/**
 * Whose budget a snapshot comes from: an authenticated caller by who they
 * are (all holders of one token share it), anyone else by peer IP address
 * (the port changes per connection, so it is left out).
 */
export function rateLimitKey(caller: Caller, peer: string): string {
  if (caller.role === Role.OPERATOR || caller.actor === "viewer (token)")
    return `actor:${caller.actor}`;
  return `peer:${peer.replace(/:\d+$/, "")}`;
}

/** Who takes a snapshot: shown as its author, and whose budget it comes from. */
export interface SnapshotTaker {
  actor: string;
  /** Rate-limit key (`rateLimitKey` for API callers; the notifier has its own). */
  key: string;
}

/**
 * Captures, encodes and stores a snapshot of the fleet now, within the
 * snapshot budget (refused with ResourceExhausted past it): what
 * `CreateSnapshot` does for a caller, and what a notification freezes.
 */
export function createSnapshotTaker(deps: SnapshotServiceDeps) {
  // One line per caller per minute: a flood must not flood the log too.
  const logRefusal = createLogOnce({ everyMs: 60_000 }, deps.clock);
  return async (
    who: SnapshotTaker,
    request: { workerId: string; note: string },
  ): Promise<SnapshotInfo> => {
    const key = who.key;
    if (request.workerId && !deps.fleet.get(request.workerId)) {
      throw new ConnectError(
        `no worker "${request.workerId.slice(0, 200)}" in the fleet`,
        Code.NotFound,
      );
    }
    if (request.note.length > 2000)
      throw new ConnectError("note must be at most 2000 characters", Code.InvalidArgument);
    const decision = deps.rateLimit.take(key);
    if (!decision.ok) {
      deps.onRefused?.(decision.scope);
      const { perCallerPerMinute, totalPerMinute } = deps.rateLimit.opts;
      const limit =
        decision.scope === "caller"
          ? `at most ${perCallerPerMinute} per minute per caller`
          : `at most ${totalPerMinute} per minute on this gateway`;
      const retry = Math.ceil(decision.retryAfterMs / 1000);
      if (logRefusal(key)) {
        deps.log.warn(
          { caller: key.slice(0, 200), scope: decision.scope, limit, retryAfterS: retry },
          "snapshots refused: rate limit (logged once a minute per caller)",
        );
      }
      throw new ConnectError(
        `too many snapshots: ${limit}; try again in ${retry} s`,
        Code.ResourceExhausted,
      );
    }
    const started = performance.now();
    const audit = await deps.store.listAudit({ limit: 200 });
    const { snapshot, series } = await captureSnapshot(
      {
        id: newSnapshotId(),
        createdBy: who.actor,
        workerId: request.workerId,
        note: request.note,
        retentionMs: deps.retentionMs,
        nowMs: deps.clock.now(),
      },
      deps.fleet,
      deps.events,
      deps.collector,
      audit,
    );
    // In a cluster, the other gateways' workers (server/gateway/cluster/shard-gather.ts).
    await deps.gatherShards?.(snapshot);
    // The latest ended profile of each worker in it, results included, from this
    // gateway's book and the peers' shards (snapshot-profiles.ts).
    const inSnapshot = new Set(snapshot.workers.map((w) => w.id));
    snapshot.profiles = profilesForSnapshot(
      newestEndedFirst(deps.profiles?.() ?? [], snapshot.profiles),
      (id) => inSnapshot.has(id),
    );
    // Series packing, encoding and gzip yield to the event loop (build-snapshot.ts, snapshot-codec.ts).
    const info = await deps.store.putSnapshotBody(
      snapshot.info ?? create(SnapshotInfoSchema),
      await encodeSnapshot(snapshot, series),
    );
    deps.onCreated?.();
    deps.log.info(
      {
        snapshot: info.id,
        workers: info.workerCount,
        bytes: Number(info.sizeBytes),
        ms: Math.round(performance.now() - started),
      },
      "snapshot created",
    );
    return info;
  };
}

export function createSnapshotService(
  deps: SnapshotServiceDeps,
): ServiceImpl<typeof SnapshotService> {
  const take = createSnapshotTaker(deps);
  return {
    async createSnapshot(request, context) {
      const caller = identifyCaller(context.requestHeader, deps.auth);
      const key = rateLimitKey(caller, context.values.get(peerAddressKey));
      const info = await take({ actor: caller.actor, key }, request);
      return create(CreateSnapshotResponseSchema, { info });
    },

    async getSnapshot(request) {
      const stored = SNAPSHOT_ID.test(request.id)
        ? await deps.store.getSnapshotBody(request.id)
        : undefined;
      if (!stored)
        throw new ConnectError("no such snapshot: it never existed or has expired", Code.NotFound);
      // Gunzip off the event loop; the summary and worker views skip other details.
      const snapshot = await decodeSnapshotView(stored.body, request);
      snapshot.profiles = profilesForView(snapshot.profiles, request);
      // The stored info carries the size, known only once the body was encoded.
      snapshot.info = stored.info;
      if (request.workerId && snapshot.details.length === 0) {
        throw new ConnectError(
          `worker "${request.workerId.slice(0, 200)}" is not in this snapshot`,
          Code.NotFound,
        );
      }
      return create(GetSnapshotResponseSchema, { snapshot });
    },

    async listSnapshots(request, context) {
      requireSnapshotLister(context.requestHeader, deps.auth);
      return create(ListSnapshotsResponseSchema, {
        snapshots: await deps.store.listSnapshots(Math.min(request.limit || 50, 500)),
      });
    },

    async deleteSnapshot(request, context) {
      const caller = requireOperator(context.requestHeader, deps.auth);
      if (!SNAPSHOT_ID.test(request.id) || !(await deps.store.deleteSnapshot(request.id))) {
        throw new ConnectError("no such snapshot", Code.NotFound);
      }
      deps.log.info({ snapshot: request.id, actor: caller.actor }, "snapshot deleted");
      return create(DeleteSnapshotResponseSchema, {});
    },
  };
}
