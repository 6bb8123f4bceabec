import { describe, expect, it } from "vitest";
import { systemClock } from "../../shared/clock/clock.js";
import { Fleet } from "./fleet.js";
import { toWorkerDetail } from "./worker-message.js";

const T0 = 1_700_000_000_000;

describe("missed beats in a worker's detail", () => {
  it("are the times beats went unanswered, within the window, not the gaps between answers", () => {
    const fleet = new Fleet({ clock: systemClock });
    const worker = fleet.enroll("w1", "spark", "127.0.0.1:1");
    fleet.beatAnswered(worker, T0, { rttMs: 2 });
    // A first beat on a new connection: answered, no round trip recorded; not a miss.
    fleet.beatAnswered(worker, T0 + 1_000);
    fleet.beatMissed(worker, T0 + 2_000, "deadline exceeded after 1000 ms");
    fleet.beatAnswered(worker, T0 + 3_000, { rttMs: 3 });
    fleet.beatMissed(worker, T0 + 4_000, "status UNAVAILABLE");
    const detail = toWorkerDetail(worker, 5 * 60_000, [], T0 + 5_000);
    expect(detail.missedBeats?.timesMs).toEqual([BigInt(T0 + 2_000), BigInt(T0 + 4_000)]);
    expect(detail.roundTripsMs?.timesMs).toEqual([BigInt(T0), BigInt(T0 + 3_000)]);
    // A window that starts after the first miss leaves it out.
    const recent = toWorkerDetail(worker, 2_000, [], T0 + 5_000);
    expect(recent.missedBeats?.timesMs).toEqual([BigInt(T0 + 4_000)]);
  });

  it("are present and empty for a worker that never missed one (so none are inferred)", () => {
    const fleet = new Fleet({ clock: systemClock });
    const worker = fleet.enroll("w1", "spark", "127.0.0.1:1");
    fleet.beatAnswered(worker, T0, { rttMs: 2 });
    fleet.beatAnswered(worker, T0 + 5_000, { rttMs: 2 });
    expect(worker.missedBeats).toBeUndefined();
    const detail = toWorkerDetail(worker, 60_000, [], T0 + 6_000);
    expect(detail.missedBeats?.timesMs).toEqual([]);
  });
});
