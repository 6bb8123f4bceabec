import { describe, expect, it } from "vitest";
import { createFleetWorker, recordMetrics } from "./fleet-worker.js";

describe("recordMetrics", () => {
  it("keeps numbers as series and redacts secrets in text values and odd names", () => {
    const w = createFleetWorker("w", "spark", "x", { unresponsiveAfter: 3, sampleCapacity: 4 }, 0);
    recordMetrics(
      w,
      { rss_bytes: "123", note: "dsn=postgres://u:hunter2@db/x", "token=abc": "1" },
      1000,
    );
    expect(w.metrics.rss_bytes).toBe("123");
    expect(w.metrics.note).not.toContain("hunter2");
    expect(Object.keys(w.metrics).join()).not.toContain("abc");
    expect(w.metricSeries.get("rss_bytes")?.last()).toBe(123);
  });
});
