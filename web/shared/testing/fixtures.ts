import { create } from "@bufbuild/protobuf";
import {
  Liveness,
  ThreadDumpViewSchema,
  WorkerKind,
  WorkerSchema,
  type ThreadDumpView,
  type Worker,
} from "../../../gen/stallwatch/v1/fleet_pb";

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

/** A dump with `count` threads: most idle on one stack, a few stuck on another. */
export function fixtureDump(count: number, stuck = 2, takenAtMs = 100_000): ThreadDumpView {
  const threads = Array.from({ length: count }, (_, i) => {
    const isStuck = i < stuck;
    return {
      thread: {
        threadId: `t-${i}`,
        name: isStuck ? `udf-hang-${i}` : `pool-${i}`,
        state: isStuck ? "running" : "idle",
        frames: isStuck
          ? ["recv_into (ssl.py:1821)", "process (udf.py:17)"]
          : ["wait (threading.py:320)"],
        sessionId: isStuck ? `s-${i}` : "",
      },
      unchangedSinceMs: BigInt(takenAtMs - 38_000),
      notMoving: isStuck,
    };
  });
  return create(ThreadDumpViewSchema, {
    id: `d-${takenAtMs}`,
    workerId: "w-1",
    takenAtMs: BigInt(takenAtMs),
    source: "agent",
    threads,
  });
}
