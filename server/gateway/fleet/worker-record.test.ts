import { describe, expect, it } from "vitest";
import { Fleet } from "./fleet.js";
import { systemClock } from "../../shared/clock/clock.js";

describe("the metrics a heartbeat carries", () => {
  it("keeps numbers as series and redacts secrets in text values and odd names", () => {
    const fleet = new Fleet({ clock: systemClock, sampleCapacity: 4 });
    const w = fleet.enroll("w", "spark", "x");
    fleet.beatAnswered(w, 1000, {
      metrics: { rss_bytes: "123", note: "dsn=postgres://u:hunter2@db/x", "token=abc": "1" },
    });
    expect(w.metrics.rss_bytes).toBe("123");
    expect(w.metrics.note).not.toContain("hunter2");
    expect(Object.keys(w.metrics).join()).not.toContain("abc");
    expect(w.metricSeries.get("rss_bytes")?.last()).toBe(123);
  });
});
