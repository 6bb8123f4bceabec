import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { SessionSchema, SessionState } from "../../../gen/stallwatch/v1/agent_pb.js";
import { formatDuration } from "../../shared/words/durations.js";
import { defaultStallThresholds, judgeSession } from "./stall-rules.js";

const session = (state: SessionState, enteredAt: number, lastProgressAt: number) =>
  create(SessionSchema, {
    sessionId: "s1",
    state,
    stateEnteredAtMs: BigInt(enteredAt),
    startedAtMs: 0n,
    progress: { lastProgressAtMs: BigInt(lastProgressAt) },
  });

describe("judgeSession", () => {
  const thresholds = { byState: { [SessionState.PROCESSING]: 60_000 }, noProgressMs: 300_000 };

  it("is not stalled within every threshold", () => {
    expect(judgeSession(session(SessionState.PROCESSING, 0, 0), 59_000, thresholds).stalled).toBe(
      false,
    );
  });

  it("flags time in state over the state's threshold, since the crossing", () => {
    const v = judgeSession(session(SessionState.PROCESSING, 10_000, 60_000), 102_000, thresholds);
    expect(v).toEqual({
      stalled: true,
      reason: "processing for 92 s (threshold 60 s)",
      sinceMs: 70_000,
      lastProgressAtMs: 60_000,
    });
  });

  it("flags no progress even in a state without a limit", () => {
    const v = judgeSession(session(SessionState.WAITING_FOR_INPUT, 0, 1_000), 400_000, thresholds);
    expect(v.stalled).toBe(true);
    expect(v.reason).toBe("no progress for 6 min (threshold 5 min)");
    expect(v.sinceMs).toBe(301_000);
  });

  it("ships defaults with Beam's 5-minute lull", () => {
    expect(defaultStallThresholds.noProgressMs).toBe(300_000);
  });

  it("formats durations for people", () => {
    expect(formatDuration(38_000)).toBe("38 s");
    expect(formatDuration(9 * 60_000)).toBe("9 min");
    expect(formatDuration(125 * 60_000)).toBe("2 h 5 min");
  });
});
