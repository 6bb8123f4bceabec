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

  it("forgets threads absent longer than the grace period, not after one missing dump", () => {
    const t = new ThreadMotionTracker(0, 5_000);
    t.observe([stuck], 0);
    t.observe([], 1_000);
    expect(t.observe([stuck], 2_000).get("udf-1")?.unchangedSinceMs).toBe(0);
    t.observe([], 10_000);
    expect(t.observe([stuck], 11_000).get("udf-1")?.unchangedSinceMs).toBe(11_000);
  });

  // Issue 11, bug 2: a thread stuck since 13:15:43 read "not moving for 22 s"
  // at 13:22:15 because a failed capture counted as movement.
  it("keeps the clock through failed captures and missing dumps", () => {
    const t = new ThreadMotionTracker(10_000);
    const at = (hms: string) => Date.parse(`2026-12-01T${hms}Z`);
    const failed = {
      ...stuck,
      frames: ["running (stack unavailable: the thread did not pause within 1000 ms)"],
    };
    t.observe([stuck], at("13:15:43"));
    let last;
    for (let s = at("13:15:53"); s <= at("13:22:15"); s += 10_000) {
      const minute = new Date(s).getUTCMinutes();
      const dump = minute === 18 ? [] : minute === 21 ? [failed] : [stuck];
      last = t.observe(dump, s).get("udf-1");
    }
    expect(t.observe([failed], at("13:22:15")).get("udf-1")).toEqual({
      unchangedSinceMs: at("13:15:43"),
      notMoving: true,
    });
    expect(last?.unchangedSinceMs).toBe(at("13:15:43"));
  });

  it("never counts a failed capture as a stack of its own", () => {
    const t = new ThreadMotionTracker(0);
    const failed = { ...stuck, frames: ["x (stack unavailable: timeout)"] };
    t.observe([failed], 0);
    expect(t.observe([failed], 60_000).get("udf-1")?.notMoving).toBe(false);
  });

  it("uses outside evidence, idle classification and tracking", () => {
    const t = new ThreadMotionTracker(10_000);
    const go = {
      threadId: "g57",
      state: "IO wait, 7 minutes",
      frames: ["read"],
      idle: false,
      stillForMs: 420_000,
    };
    expect(t.observe([go], 1_000_000).get("g57")).toEqual({
      unchangedSinceMs: 580_000,
      notMoving: true,
    });
    const idle = { threadId: "q", state: "", frames: ["wait"], idle: true };
    const trackedIdle = { ...idle, threadId: "b", tracked: true };
    const handler = {
      threadId: "h",
      state: "",
      frames: ["serve"],
      idle: false,
      neverSuspect: true,
    };
    const moving = {
      threadId: "m",
      state: "RUNNABLE",
      frames: ["score"],
      idle: false,
      tracked: true,
      movedRecently: true,
    };
    t.observe([idle, trackedIdle, handler, moving], 0);
    const r = t.observe([idle, trackedIdle, handler, moving], 20_000);
    expect(r.get("q")?.notMoving).toBe(false);
    expect(r.get("b")?.notMoving).toBe(true);
    expect(r.get("h")?.notMoving).toBe(false);
    expect(r.get("m")?.notMoving).toBe(false);
  });
});
