import { describe, expect, it } from "vitest";
import { EventLog } from "../events/event-log.js";
import { recentEventsByWorker } from "./recent-events.js";
import { systemClock } from "../../shared/clock/clock.js";

describe("recentEventsByWorker", () => {
  it("gives each worker in scope its newest events, newest first, capped, in one pass", () => {
    const log = new EventLog(systemClock, 100);
    for (let i = 0; i < 30; i++) {
      log.record({ workerId: `w-${i % 3}`, kind: "liveness", summary: `#${i}`, atMs: 1000 + i });
    }
    const byWorker = recentEventsByWorker(log, new Set(["w-0", "w-1", "nobody"]), 4);
    expect([...byWorker.keys()].sort()).toEqual(["w-0", "w-1"]);
    expect(byWorker.get("w-0")?.map((e) => e.summary)).toEqual(["#27", "#24", "#21", "#18"]);
    // The same as asking the log per worker, as the snapshot used to.
    expect(byWorker.get("w-1")).toEqual(log.list({ workerId: "w-1", limit: 4 }));
  });
});
