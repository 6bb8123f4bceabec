import { create } from "@bufbuild/protobuf";
import {
  Liveness,
  WorkerKind,
  WorkerSchema,
  type Worker,
} from "../../gen/stallwatch/v1/fleet_pb.js";
import type { LivenessState } from "../heartbeats/liveness.js";
import { percentile } from "../heartbeats/sample-ring.js";
import type { FleetWorker, WorkerKind as Kind } from "./fleet-worker.js";

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

/** Round trips the latency summary covers: the last minute at 1 Hz. */
const SUMMARY_SAMPLES = 60;

/** The dashboard's view of a worker. */
export function toWorkerMessage(worker: FleetWorker): Worker {
  const live = worker.liveness.current;
  const recent = worker.roundTrips.lastValues(SUMMARY_SAMPLES);
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
      p50Ms: percentile(recent, 50),
      p99Ms: percentile(recent, 99),
      samples: recent.length,
    },
    metrics: worker.metrics,
  });
}
