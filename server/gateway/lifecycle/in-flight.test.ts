import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { FakeClock, flush } from "../../testing/fake-clock.js";
import { InFlight, type Settled } from "./in-flight.js";

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
    let settled: Settled | undefined;
    void inFlight.settled(5_000, 200).then((s) => (settled = s));
    await clock.advance(1_000);
    expect(settled).toBeUndefined();
    inFlight.seen(); // one refused while stopping: the quiet time starts again
    close();
    await clock.advance(150);
    expect(settled).toBeUndefined();
    await clock.advance(100);
    expect(settled).toEqual({ left: 0, why: "idle" });
  });

  it("gives up at the grace's end and hands over the ones left to be answered", async () => {
    const clock = new FakeClock();
    const inFlight = new InFlight(clock);
    const a = response();
    const b = response();
    inFlight.track(a.res);
    inFlight.track(b.res);
    let settled: Settled | undefined;
    void inFlight.settled(1_000, 200).then((s) => (settled = s));
    await clock.advance(999);
    expect(settled).toBeUndefined();
    await clock.advance(50);
    expect(settled).toEqual({ left: 2, why: "grace" });
    expect(inFlight.running()).toEqual([a.res, b.res]);
  });

  it("is not held to the grace by refused requests that keep coming (a poller, reconnecting browsers)", async () => {
    const clock = new FakeClock();
    const inFlight = new InFlight(clock);
    let settled: Settled | undefined;
    void inFlight.settled(5_000, 200, 1_000).then((s) => (settled = s));
    for (let t = 0; t < 1_100 && !settled; t += 100) {
      inFlight.seen(); // a /readyz poll every 100 ms, each answered 503 at once
      await clock.advance(100);
    }
    expect(settled).toEqual({ left: 0, why: "busy" });
  });

  it("does not call it quiet when a request was waiting behind a blocked loop", async () => {
    const clock = new FakeClock();
    const late = new InFlight(clock);
    let lateSettled: Settled | undefined;
    late.seen();
    // The loop was busy past the quiet time; the request read in the next
    // turn must still count before the listener closes.
    await clock.advance(300);
    void late.settled(5_000, 200).then((s) => (lateSettled = s));
    setImmediate(() => late.seen()); // read in the loop turn after the timer
    await flush();
    expect(lateSettled).toBeUndefined();
    await clock.advance(250);
    expect(lateSettled).toEqual({ left: 0, why: "idle" });
  });
});
