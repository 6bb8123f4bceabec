import { describe, expect, it } from "vitest";
import { ThreadMotionTracker } from "./thread-motion.js";

const stuck = {
  threadId: "udf-1",
  state: "running",
  frames: ["recv_into (ssl.js:9)", "run (udf.js:3)"],
};

describe("ThreadMotionTracker", () => {
  it("flags a thread whose stack is identical across dumps spanning the threshold", () => {
    const t = new ThreadMotionTracker(10_000);
    expect(t.observe([stuck], 0).get("udf-1")).toEqual({ unchangedSinceMs: 0, notMoving: false });
    expect(t.observe([stuck], 5_000).get("udf-1")?.notMoving).toBe(false);
    expect(t.observe([stuck], 10_000).get("udf-1")).toEqual({
      unchangedSinceMs: 0,
      notMoving: true,
    });
  });

  it("resets when the stack changes", () => {
    const t = new ThreadMotionTracker(1_000);
    t.observe([stuck], 0);
    t.observe([stuck], 2_000);
    const moved = { ...stuck, frames: ["compute (udf.js:7)", "run (udf.js:3)"] };
    expect(t.observe([moved], 4_000).get("udf-1")).toEqual({
      unchangedSinceMs: 4_000,
      notMoving: false,
    });
  });

  it("never flags resting threads or empty stacks", () => {
    const t = new ThreadMotionTracker(0);
    const idle = { threadId: "main", state: "idle", frames: ["poll"] };
    const empty = { threadId: "x", state: "running", frames: [] };
    t.observe([idle, empty], 0);
    const motion = t.observe([idle, empty], 60_000);
    expect(motion.get("main")?.notMoving).toBe(false);
    expect(motion.get("x")?.notMoving).toBe(false);
  });

  it("forgets threads that ended", () => {
    const t = new ThreadMotionTracker(0);
    t.observe([stuck], 0);
    t.observe([], 1_000);
    expect(t.observe([stuck], 2_000).get("udf-1")?.unchangedSinceMs).toBe(2_000);
  });
});
