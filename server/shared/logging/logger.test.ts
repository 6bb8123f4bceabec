import { describe, expect, it } from "vitest";
import { resolveLogFormat } from "./logger.js";
import { formatPretty } from "./pretty.js";

describe("log format", () => {
  it("is pretty on a terminal and JSON when piped, unless asked", () => {
    expect(resolveLogFormat(undefined, true)).toBe("pretty");
    expect(resolveLogFormat(undefined, false)).toBe("json");
    expect(resolveLogFormat("json", true)).toBe("json");
    expect(resolveLogFormat("pretty", false)).toBe("pretty");
  });

  it("writes one short human line per entry, clipped and without control characters", () => {
    const line = formatPretty(
      {
        level: 40,
        time: Date.UTC(2026, 0, 1, 12, 0, 0),
        pid: 1,
        name: "demo",
        child: "gateway",
        msg: "liveness changed",
        worker: "demo-4",
        reason: "connection refused\u001b[2J",
        blob: "x".repeat(1000),
      },
      false,
    );
    expect(line).toMatch(/^\d\d:\d\d:\d\d WARN {2}gateway {6}liveness changed {2}worker=demo-4 /);
    expect(line).toContain('reason="connection refused');
    expect(line).not.toContain("\u001b");
    expect(line).not.toContain("pid=");
    expect(line.length).toBeLessThan(400);
  });
});
