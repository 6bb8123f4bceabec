import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../testing/fake-clock.js";
import { InFlight } from "./in-flight.js";

/** A response that closes when the test says so. */
function response() {
  const res = new EventEmitter();
  return { res, close: () => res.emit("close") };
}

describe("requests in flight at shutdown", () => {
  it("settles once the last request closed and none arrived for the quiet time", async () => {
    const clock = new FakeClock();
    const inFlight = new InFlight(clock);
    const { res, close } = response();
    inFlight.track(res);
    let left: number | undefined;
    void inFlight.settled(5_000, 200).then((n) => (left = n));
    await clock.advance(1_000);
    expect(left).toBeUndefined();
    inFlight.seen(); // one refused while stopping: the quiet time starts again
    close();
    await clock.advance(150);
    expect(left).toBeUndefined();
    await clock.advance(100);
    expect(left).toBe(0);
  });

  it("gives up at the grace's end and says how many were left", async () => {
    const clock = new FakeClock();
    const inFlight = new InFlight(clock);
    inFlight.track(response().res);
    inFlight.track(response().res);
    let left: number | undefined;
    void inFlight.settled(1_000, 200).then((n) => (left = n));
    await clock.advance(999);
    expect(left).toBeUndefined();
    await clock.advance(50);
    expect(left).toBe(2);
  });
});
