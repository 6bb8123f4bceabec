import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { SessionState } from "../../../gen/stallwatch/v1/agent_pb.js";
import { Liveness, WorkerSchema } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { SnapshotSchema } from "../../../gen/stallwatch/v1/snapshot_pb.js";
import { shareText, summarizeSnapshot } from "./snapshot-summary.js";

const at = 1_700_000_000_000;
const worker = (id: string, liveness = Liveness.HEALTHY, stalledSessions = 0) =>
  create(WorkerSchema, { id, liveness, stalledSessions, lastHeartbeatAtMs: BigInt(at - 540_000) });
/** A stalled session of `udfName` that has been processing for a while. */
const processing = (
  workerId: string,
  sessionId: string,
  udfName: string,
  { stalledForMs, processingForMs }: { stalledForMs: number; processingForMs: number },
) => ({
  workerId,
  stalledSinceMs: BigInt(at - stalledForMs),
  session: {
    sessionId,
    udfName,
    state: SessionState.PROCESSING,
    stateEnteredAtMs: BigInt(at - processingForMs),
  },
});

const incident = create(SnapshotSchema, {
  info: { id: "snap", createdAtMs: BigInt(at), createdBy: "operator (token)", workerCount: 6 },
  workers: [
    worker("demo-1", Liveness.HEALTHY, 1),
    worker("demo-2", Liveness.UNRESPONSIVE),
    worker("demo-3", Liveness.HEALTHY, 1),
    worker("demo-5", Liveness.HEALTHY, 1),
  ],
  stalled: [
    processing("demo-3", "s-3", "spin", { stalledForMs: 60_000, processingForMs: 90_000 }),
    processing("demo-1", "s-1", "hang", { stalledForMs: 200_000, processingForMs: 245_000 }),
    { workerId: "demo-5", stalledSinceMs: BigInt(at - 10_000), session: { sessionId: "s-5" } },
  ],
  details: [
    {
      worker: worker("demo-1"),
      latestDump: {
        threads: [{ notMoving: true, thread: { threadId: "udf-2", sessionId: "s-1" } }],
      },
    },
  ],
});

describe("summarizeSnapshot", () => {
  it("says what is wrong and the worst of it, ready for the incident channel", () => {
    const summary = summarizeSnapshot(incident);
    expect(summary.headline).toBe("3 sessions stalled, 1 worker unresponsive");
    expect(summary.worst).toBe("demo-1: hang, processing 4 min, thread not moving");
    expect(summary.scope).toBe("of the fleet (6 workers)");
    expect(shareText(summary, "http://x/snapshots/snap")).toBe(
      "3 sessions stalled, 1 worker unresponsive — demo-1: hang, processing 4 min, thread not moving — snapshot http://x/snapshots/snap",
    );
  });

  it("names an unresponsive worker when nothing is stalled, and says when all is well", () => {
    const down = create(SnapshotSchema, {
      info: { createdAtMs: BigInt(at), workerId: "demo-2" },
      workers: [worker("demo-2", Liveness.UNRESPONSIVE)],
    });
    expect(summarizeSnapshot(down)).toEqual({
      headline: "1 worker unresponsive",
      worst: "demo-2: unresponsive, last heartbeat 9 min ago",
      scope: "of worker demo-2",
    });
    const calm = create(SnapshotSchema, {
      info: { createdAtMs: BigInt(at) },
      workers: [worker("a")],
    });
    expect(shareText(summarizeSnapshot(calm), "L")).toBe("1 worker, nothing wrong — snapshot L");
  });

  it("keeps worker-supplied text to one short line", () => {
    const evil = create(SnapshotSchema, {
      info: { createdAtMs: BigInt(at) },
      stalled: [{ workerId: "w\n\n".repeat(100), session: { udfName: "x".repeat(500) } }],
    });
    const { worst } = summarizeSnapshot(evil);
    expect(worst).not.toContain("\n");
    expect(worst.length).toBeLessThan(200);
  });
});
