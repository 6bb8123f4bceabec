import type { Clock } from "../../shared/clock/clock.js";
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  GatherShardResponseSchema,
  type ClusterService,
} from "../../../gen/stallwatch/v1/cluster_pb.js";
import type { Profile } from "../../../gen/stallwatch/v1/profile_pb.js";
import type { Snapshot } from "../../../gen/stallwatch/v1/snapshot_pb.js";
import type { EventLog } from "../events/event-log.js";
import type { FleetReader } from "../fleet/fleet-reader.js";
import type { Logger } from "../../shared/logging/logger.js";
import { buildSnapshot } from "../snapshots/build-snapshot.js";
import { profilesForSnapshot } from "../snapshots/snapshot-profiles.js";
import type { StatusCollector } from "../status-intake/status-collector.js";
import { DEPARTED, type ClusterFront } from "./cluster-front.js";

/** What a shard is built from: this gateway's own workers, events, status and profiles. */
export interface ShardParts {
  clock: Clock;
  fleet: FleetReader;
  events: EventLog;
  collector: StatusCollector;
  /** This gateway's recent profiles, newest first (a profile lives where its worker's agent is). */
  recentProfiles(): readonly Profile[];
}

/** `ClusterService.GatherShard` on the --peer listener: this gateway's part of a snapshot. */
export function createShardService(
  gatewayId: string,
  parts: ShardParts,
): ServiceImpl<typeof ClusterService> {
  return {
    gatherShard(request) {
      const shard = buildSnapshot(
        {
          id: "",
          createdBy: "",
          workerId: request.workerId,
          note: "",
          retentionMs: 0,
          nowMs: Number(request.nowMs) || parts.clock.now(),
        },
        parts.fleet,
        parts.events,
        parts.collector,
        [],
      );
      // The latest ended profile of each of its workers, kept as a snapshot keeps them.
      const own = new Set(shard.workers.map((w) => w.id));
      shard.profiles = profilesForSnapshot(parts.recentProfiles(), (id) => own.has(id));
      return create(GatherShardResponseSchema, { shard, gatewayId });
    },
  };
}

/** Deadline on each peer's shard (a 5,000-worker shard is a few MB). */
const SHARD_MS = 10_000;
const MAX_EVENTS = 500;

/**
 * Completes a snapshot this gateway built from its own workers with every
 * peer's shard, each worker once (this gateway's row first, then shards in
 * the order of the merged fleet). A peer that is down contributes its last
 * known rows without details; one that does not answer in time is named in
 * the note, so an incomplete snapshot says so.
 */
export function createShardGatherer(front: ClusterFront, log: Logger) {
  return async (snapshot: Snapshot): Promise<void> => {
    const info = snapshot.info;
    if (!info) return;
    const seen = new Set(snapshot.workers.map((w) => w.id));
    const missing: string[] = [];
    const peers = front
      .peers()
      .sort((a, b) => front.rank(a.member.gatewayId) - front.rank(b.member.gatewayId));
    const shards = await Promise.all(
      peers.map(async (p) => {
        if (!p.connected) return { peer: p, shard: undefined };
        try {
          const r = await p.cluster.gatherShard(
            { workerId: info.workerId, nowMs: info.createdAtMs },
            { timeoutMs: SHARD_MS },
          );
          return { peer: p, shard: r.shard };
        } catch (err) {
          log.warn(
            { peer: p.member.gatewayId, err: (err as Error).message },
            "a peer's snapshot shard is missing",
          );
          missing.push(p.member.gatewayId);
          return { peer: p, shard: undefined };
        }
      }),
    );
    const events = new Map(snapshot.events.map((e) => [e.id, e]));
    for (const { peer, shard } of shards) {
      if (shard) {
        const fresh = new Set(shard.workers.filter((w) => !seen.has(w.id)).map((w) => w.id));
        snapshot.workers.push(...shard.workers.filter((w) => fresh.has(w.id)));
        snapshot.details.push(...shard.details.filter((d) => d.worker && fresh.has(d.worker.id)));
        snapshot.stalled.push(...shard.stalled.filter((s) => fresh.has(s.workerId)));
        // The owner's profiles; snapshot-service.ts keeps the newest within a snapshot's budget.
        snapshot.profiles.push(...shard.profiles.filter((p) => fresh.has(p.workerId)));
        for (const e of shard.events) events.set(e.id, e);
        for (const id of fresh) seen.add(id);
        continue;
      }
      // Down (a failover under way): its last known rows, so no worker is left out.
      const rows = front.rows.get(peer.member.gatewayId);
      for (const w of rows?.values() ?? []) {
        if (seen.has(w.id) || (info.workerId && w.id !== info.workerId)) continue;
        snapshot.workers.push(w);
        seen.add(w.id);
      }
    }
    // Rows a gateway let go of moments ago whose new owner has not reported yet.
    for (const w of front.rows.get(DEPARTED)?.values() ?? []) {
      if (seen.has(w.id) || (info.workerId && w.id !== info.workerId)) continue;
      snapshot.workers.push(w);
      seen.add(w.id);
    }
    snapshot.events = [...events.values()]
      .sort((a, b) => Number(b.atMs - a.atMs))
      .slice(0, MAX_EVENTS);
    info.workerCount = snapshot.workers.length;
    if (missing.length > 0) {
      info.note = `${info.note}${info.note ? " " : ""}[incomplete: no answer from gateway ${missing.join(", ")}]`;
    }
  };
}
