import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { FakeClock, flush } from "../../testing/fake-clock.js";
import { InFlight, type Settled } from "./in-flight.js";

/** A response that closes when the test says so. */
function response() {
  const res = new EventEmitter();
  return { res, close: () => res.emit("close") };
}

/** A request refused while stopping whose 503 is written at once. */
function refusedAtOnce(inFlight: InFlight): void {
  const { res, close } = response();
  inFlight.refused(res);
  close();
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
    refusedAtOnce(inFlight); // one refused while stopping: the quiet time starts again
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
      refusedAtOnce(inFlight); // a /readyz poll every 100 ms, each answered 503 at once
      await clock.advance(100);
    }
    expect(settled).toEqual({ left: 0, why: "busy" });
  });

  // Issue 19 item 7: a poller whose refusals were still being written when the
  // wait looked (a loaded machine) restarted the "busy" clock each time, and an
  // idle gateway waited out its whole grace.
  it("is not held by refusals still being written, nor by connections that say nothing", async () => {
    const clock = new FakeClock();
    const inFlight = new InFlight(clock);
    let settled: Settled | undefined;
    void inFlight.settled(60_000, 200, 1_000).then((s) => (settled = s));
    for (let t = 0; t < 2_000 && !settled; t += 10) {
      // Each poll's 503 takes longer than the gap to the next: one is always open.
      const poll = response();
      inFlight.refused(poll.res);
      clock.after(15, poll.close);
      inFlight.connected(response().res); // and a connection that says nothing
      await clock.advance(10);
    }
    expect(settled).toEqual({ left: 0, why: "busy" });
    // The close still answers them: they are unanswered until they close.
    expect(inFlight.unanswered).toBeGreaterThan(0);
  });

  it("does not call it quiet when a request was waiting behind a blocked loop", async () => {
    const clock = new FakeClock();
    const late = new InFlight(clock);
    let lateSettled: Settled | undefined;
    refusedAtOnce(late);
    // The loop was busy past the quiet time; the request read in the next
    // turn must still count before the listener closes.
    await clock.advance(300);
    void late.settled(5_000, 200).then((s) => (lateSettled = s));
    setImmediate(() => refusedAtOnce(late)); // read in the loop turn after the timer
    await flush();
    expect(lateSettled).toBeUndefined();
    await clock.advance(250);
    expect(lateSettled).toEqual({ left: 0, why: "idle" });
  });
});

describe("connections accepted before the listener stopped accepting", () => {
  it("are waited for until each sent its request and got its answer, or went away", async () => {
    const clock = new FakeClock();
    const inFlight = new InFlight(clock, 3_000);
    const silent = response();
    const slow = response();
    // Accepted long before the stop: their wait starts with the stop.
    inFlight.connected(silent.res);
    inFlight.connected(slow.res);
    await clock.advance(10_000);
    inFlight.stopping();
    let left: number | undefined;
    void inFlight.drained(10_000).then((n) => (left = n));
    await clock.advance(500);
    // The slow one's request arrives and is refused; its answer takes a while.
    inFlight.requestOn(slow.res);
    const refusal = response();
    inFlight.refused(refusal.res);
    await clock.advance(500);
    refusal.close();
    await clock.advance(100);
    expect(left).toBeUndefined(); // the silent one may still send
    silent.close();
    await clock.advance(100);
    expect(left).toBe(0);
  });

  it("let a silent connection go once its wait is over", async () => {
    const clock = new FakeClock();
    const inFlight = new InFlight(clock, 3_000);
    inFlight.connected(response().res); // a browser's speculative connection
    await clock.advance(60_000);
    // Accepted a minute before the stop: it gets 3 s from the stop, no more.
    inFlight.stopping();
    let left: number | undefined;
    void inFlight.drained(10_000).then((n) => (left = n));
    await clock.advance(2_900);
    expect(left).toBeUndefined();
    await clock.advance(200);
    expect(left).toBe(0);
  });

  it("gives up after its bound and says how many were left", async () => {
    const clock = new FakeClock();
    const inFlight = new InFlight(clock);
    inFlight.track(response().res); // a request that never ends
    let left: number | undefined;
    void inFlight.drained(1_000).then((n) => (left = n));
    await clock.advance(1_050);
    expect(left).toBe(1);
  });
});
