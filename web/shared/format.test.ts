import { describe, expect, it } from "vitest";
import { ago, clip, formatBytes, formatClock, formatDuration, formatMs } from "./format";

describe("formatting", () => {
  it("says durations the way people read them", () => {
    expect(formatDuration(500)).toBe("now");
    expect(formatDuration(9_000)).toBe("9 s");
    expect(formatDuration(9 * 60_000)).toBe("9 min");
    expect(formatDuration(125 * 60_000)).toBe("2 h 5 min");
    expect(formatDuration(72 * 3_600_000)).toBe("3 d");
    expect(formatDuration(-1)).toBe("—");
  });

  it("says when, relative to now", () => {
    expect(ago(1_000, 10_000)).toBe("9 s ago");
    expect(ago(0n, 10_000)).toBe("never");
    expect(ago(10_000n, 10_200)).toBe("just now");
    // Issue 11, bug 3: a beat stamped by the gateway a little after the
    // browser's last tick read "— ago" on healthy workers.
    expect(ago(10_700n, 10_000)).toBe("just now");
    expect(ago(12_000, 10_000)).toBe("just now");
  });

  it("formats bytes, milliseconds and long text", () => {
    expect(formatBytes(64 * 1024 * 1024)).toBe("64 MiB");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatMs(0.456)).toBe("0.46 ms");
    expect(formatMs(532.4)).toBe("532 ms");
    expect(formatMs(0)).toBe("—");
    expect(clip("x".repeat(10), 5)).toBe("xxxx…");
  });
});

describe("formatClock", () => {
  it("reads as toLocaleTimeString did, from one formatter made once", () => {
    for (const ms of [1, 1_700_000_000_000, 1_765_180_800_123, 1_765_223_999_999])
      expect(formatClock(ms)).toBe(new Date(ms).toLocaleTimeString([], { hour12: false }));
    expect(formatClock(1_700_000_000_000n)).toBe(formatClock(1_700_000_000_000));
    expect(formatClock(0)).toBe("—");
  });
});
