import { create } from "@bufbuild/protobuf";
import { Liveness, WorkerKind, WorkerSchema, type Worker } from "../../gen/stallwatch/v1/fleet_pb";

/** A worker for component tests; override what the test is about. */
export function fixtureWorker(id: string, patch: Partial<Omit<Worker, "$typeName">> = {}): Worker {
  return create(WorkerSchema, {
    id,
    kind: WorkerKind.SPARK,
    address: id,
    liveness: Liveness.HEALTHY,
    livenessSinceMs: 1_000n,
    livenessReason: "first heartbeat answered",
    lastHeartbeatAtMs: 9_000n,
    latency: { lastMs: 1.5, p50Ms: 1.2, p99Ms: 3.4, samples: 60 },
    metrics: { rss_bytes: String(64 * 1024 * 1024), active_sessions: "0" },
    ...patch,
  });
}
