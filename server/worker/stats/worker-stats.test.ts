import { describe, expect, it } from "vitest";
import { FakeClock } from "../../testing/fake-clock.js";
import { WorkerStats } from "./worker-stats.js";

describe("WorkerStats", () => {
  it("counts uptime on its clock", async () => {
    const clock = new FakeClock(10_000);
    const stats = new WorkerStats(clock);
    try {
      expect(stats.startedAtMs).toBe(10_000);
      await clock.advance(1_234);
      expect(stats.heartbeatMetrics().uptime_ms).toBe("1234");
    } finally {
      stats.close();
    }
  });
});
