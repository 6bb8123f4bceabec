import { create } from "@bufbuild/protobuf";
import {
  Liveness,
  BeatMissesSchema,
  MetricSeriesSchema,
  SeriesSchema,
  WorkerDetailSchema,
  WorkerKind,
  WorkerSchema,
  type FleetEvent,
  type Worker,
  type WorkerDetail,
} from "../../../gen/stallwatch/v1/fleet_pb.js";
import type { LivenessState } from "./liveness.js";
import type { TrackedWorker, WorkerKind as Kind } from "./tracked-worker.js";

const livenessToProto: Record<LivenessState, Liveness> = {
  pending: Liveness.UNSPECIFIED,
  healthy: Liveness.HEALTHY,
  late: Liveness.LATE,
  unresponsive: Liveness.UNRESPONSIVE,
  gone: Liveness.GONE,
  draining: Liveness.DRAINING,
  exited: Liveness.EXITED,
};

const kindToProto: Record<Kind, WorkerKind> = {
  spark: WorkerKind.SPARK,
  beam: WorkerKind.BEAM,
  agent: WorkerKind.AGENT,
};

/** Round trips in each worker's fleet-table sparkline. */
const SPARKLINE_SAMPLES = 30;

/** Round trips the latency summary covers: the last minute at 1 Hz. */
const SUMMARY_SAMPLES = 60;

/** Nearest-rank percentile (0-100) of sorted values, as `percentile` in sample-ring.ts; 0 when empty. */
function nearestRank(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? 0;
}

/** The dashboard's view of a worker. */
export function toWorkerMessage(worker: TrackedWorker): Worker {
  const live = worker.liveness.current;
  const recent = worker.roundTrips.lastValues(SUMMARY_SAMPLES);
  // Sorted once for both percentiles: a snapshot makes thousands of these in a row.
  const sorted = Float64Array.from(recent).sort();
  return create(WorkerSchema, {
    id: worker.id,
    kind: kindToProto[worker.kind],
    address: worker.address,
    liveness: livenessToProto[live.state],
    livenessSinceMs: BigInt(live.sinceMs),
    livenessReason: live.reason,
    lastHeartbeatAtMs: BigInt(live.lastHeartbeatAtMs),
    consecutiveMisses: live.consecutiveMisses,
    latency: {
      lastMs: worker.roundTrips.last() ?? 0,
      p50Ms: nearestRank(sorted, 50),
      p99Ms: nearestRank(sorted, 99),
      samples: recent.length,
    },
    metrics: worker.metrics,
    recentRttTenthsMs: worker.roundTrips
      .lastValues(SPARKLINE_SAMPLES)
      .map((ms) => Math.round(ms * 10)),
    activeSessions: worker.status.sessions.length,
    stalledSessions: worker.status.sessions.filter((s) => s.stalled).length,
    lastStatusAtMs: BigInt(worker.status.lastStatusAtMs),
    threadsNotMoving: worker.status.latestDump?.threads.filter((t) => t.notMoving).length ?? 0,
    ...(worker.agent
      ? {
          agent: {
            connected: worker.agent.connected,
            sinceMs: BigInt(worker.agent.sinceMs),
            closedReason: worker.agent.closedReason,
            pid: worker.agent.announce.pid,
            host: worker.agent.announce.host,
            runtime: worker.agent.announce.runtime,
            version: worker.agent.announce.version,
            startedAtMs: worker.agent.announce.startedAtMs,
            capabilities: worker.agent.announce.capabilities,
            manageAddress: worker.agent.announce.manageAddress,
          },
        }
      : {}),
  });
}

/** The worker page's data: series over the window, sessions, dump, events. */
export function toWorkerDetail(
  worker: TrackedWorker,
  windowMs: number,
  events: FleetEvent[],
  nowMs: number,
  /** The worker's message when the caller has already made it. */
  message: Worker = toWorkerMessage(worker),
): WorkerDetail {
  const since = nowMs - windowMs;
  const rtt = worker.roundTrips.since(since);
  const detail = toWorkerDetailWithoutSeries(worker, events, message);
  detail.roundTripsMs = create(SeriesSchema, {
    timesMs: rtt.times.map((t) => BigInt(Math.round(t))),
    values: rtt.values,
  });
  // Present even when empty: the dashboard then knows there were none.
  detail.missedBeats = create(BeatMissesSchema, {
    timesMs: (worker.missedBeats?.since(since).times ?? []).map((t) => BigInt(Math.round(t))),
  });
  detail.metrics = [...worker.metricSeries].map(([name, ring]) => {
    const s = ring.since(since);
    return create(MetricSeriesSchema, {
      name,
      series: { timesMs: s.times.map((t) => BigInt(Math.round(t))), values: s.values },
    });
  });
  return detail;
}

/**
 * A worker's detail without its series: sessions, dump, Beam status, events.
 * Snapshots add their series downsampled (snapshots/worker-series.ts).
 */
export function toWorkerDetailWithoutSeries(
  worker: TrackedWorker,
  events: FleetEvent[],
  message: Worker = toWorkerMessage(worker),
): WorkerDetail {
  const beam = worker.beamStatus;
  return create(WorkerDetailSchema, {
    worker: message,
    sessions: [...worker.status.sessions],
    finished: [...worker.status.finished],
    events,
    ...(worker.status.latestDump ? { latestDump: worker.status.latestDump } : {}),
    ...(beam
      ? {
          beamStatus: {
            receivedAtMs: BigInt(beam.receivedAtMs),
            raw: beam.raw,
            truncated: beam.truncated,
            error: beam.error,
            format: beam.format ?? "",
            bundles: beam.bundles ?? [],
            unparsed: beam.unparsed ?? "",
            unparsedLines: beam.unparsedLines ?? 0,
          },
        }
      : {}),
  });
}
