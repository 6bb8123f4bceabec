import { describe, expect, it } from "vitest";
import { FakeClock } from "../../testing/fake-clock.js";
import { startPinger, type Pingable, type PingResult } from "./stream-pinger.js";

/**
 * An HTTP/2 session's PING as the pinger sees it: the test decides when (and
 * whether) each acknowledgement comes. The real PING over a real connection
 * is covered by beam-status.integration.test.ts; this pins the timing rules.
 */
class Session implements Pingable {
  destroyed = false;
  closed = false;
  throwOnPing = false;
  readonly acks: Array<(err: Error | null) => void> = [];
  ping(callback: (err: Error | null, duration: number, payload: Buffer) => void): boolean {
    if (this.throwOnPing) throw new Error("ERR_HTTP2_PING_CANCEL");
    this.acks.push((err) => callback(err, 0, Buffer.alloc(8)));
    return true;
  }
}

function start(session: Session | undefined, clock = new FakeClock()) {
  const results: PingResult[] = [];
  const stop = startPinger(session, { intervalMs: 1000, deadlineMs: 300, clock }, (r) =>
    results.push(r),
  );
  return { clock, results, stop };
}

describe("startPinger", () => {
  it("pings at once, then every interval, never with one outstanding", async () => {
    const session = new Session();
    const { clock, results } = start(session);
    expect(session.acks).toHaveLength(1);
    await clock.advance(120);
    session.acks[0]?.(null);
    expect(results).toEqual([{ ok: true, rttMs: 120 }]);
    await clock.advance(880);
    expect(session.acks).toHaveLength(2);
    await clock.advance(1000); // the second was never acknowledged: missed, a third goes out
    expect(session.acks).toHaveLength(3);
  });

  it("reports a PING not acknowledged within the deadline once, and ignores the late ack", async () => {
    const session = new Session();
    const { clock, results } = start(session);
    await clock.advance(299);
    expect(results).toEqual([]);
    await clock.advance(1);
    expect(results).toEqual([{ ok: false, reason: "no PING acknowledgement within 300 ms" }]);
    session.acks[0]?.(null);
    expect(results).toHaveLength(1);
  });

  it("reports a PING that failed or threw", async () => {
    const session = new Session();
    const { clock, results } = start(session);
    session.acks[0]?.(new Error("session closed"));
    session.throwOnPing = true;
    await clock.advance(1000);
    expect(results).toEqual([
      { ok: false, reason: "PING failed: session closed" },
      { ok: false, reason: "PING failed: ERR_HTTP2_PING_CANCEL" },
    ]);
  });

  it("stops: no timer left, no report after, no PING on a destroyed session", async () => {
    const session = new Session();
    const { clock, results, stop } = start(session);
    stop();
    expect(clock.pendingTimers).toBe(0);
    session.acks[0]?.(null);
    await clock.advance(5000);
    expect(results).toEqual([]);
    expect(session.acks).toHaveLength(1);

    const gone = new Session();
    gone.destroyed = true;
    const other = start(gone);
    await other.clock.advance(3000);
    expect(gone.acks).toHaveLength(0);
    other.stop();
    expect(start(undefined).clock.pendingTimers).toBe(0);
  });
});
