import { describe, expect, it } from "vitest";
import { memoryLog } from "../agent-client/testing/memory-log.js";
import { FakeClock, flush } from "../../testing/fake-clock.js";
import { startStreamLink } from "./stream-link.js";

/** A peer that refuses until told otherwise; counts every attempt. */
function peer(clock: FakeClock) {
  const state = { attempts: 0, accept: false, stayUpMs: 0 };
  const run = async (_t: unknown, signal: AbortSignal, up: () => void): Promise<string> => {
    state.attempts += 1;
    if (!state.accept) throw new Error("connection refused");
    up();
    // Connected: stay up for stayUpMs of fake time, or until stopped.
    await new Promise<void>((resolve) => {
      const timer = clock.after(state.stayUpMs, resolve);
      const stop = () => {
        timer.cancel();
        resolve();
      };
      signal.addEventListener("abort", stop, { once: true });
    });
    return "the peer closed the stream";
  };
  return { state, run };
}

function link(clock: FakeClock, run: ReturnType<typeof peer>["run"]) {
  const { log, lines } = memoryLog();
  const handle = startStreamLink({
    peer: "test peer",
    address: { host: "127.0.0.1", port: 9 },
    log,
    clock,
    backoff: { initialMs: 100, maxMs: 400, jitter: 0 },
    run,
  });
  return { handle, lines };
}

describe("startStreamLink on a fake clock", () => {
  it("retries a refusing peer after 100, 200, 400, 400 ms, logging the failure once", async () => {
    const clock = new FakeClock();
    const p = peer(clock);
    const { handle, lines } = link(clock, p.run);
    await flush();
    expect(p.state.attempts).toBe(1);
    for (const [wait, attempts] of [
      [99, 1],
      [1, 2],
      [200, 3],
      [400, 4],
      [399, 4],
      [1, 5],
    ] as const) {
      await clock.advance(wait);
      expect(p.state.attempts).toBe(attempts);
    }
    expect(handle.connected).toBe(false);
    expect(lines.filter((l) => l.msg?.includes("could not connect"))).toHaveLength(1);
    await handle.stop();
  });

  it("a connection that lasted resets the backoff; one dropped at once does not", async () => {
    const clock = new FakeClock();
    const p = peer(clock);
    const { handle } = link(clock, p.run);
    await clock.advance(100 + 200 + 400); // attempts 1-4 refused; the next wait is 400
    p.state.accept = true;
    p.state.stayUpMs = 10;
    await clock.advance(400);
    expect(p.state.attempts).toBe(5);
    await clock.advance(10); // dropped after 10 ms: not stable, the wait stays at 400
    expect(handle.connected).toBe(false);
    await clock.advance(399);
    expect(p.state.attempts).toBe(5);
    p.state.stayUpMs = 5_000;
    await clock.advance(1);
    expect(p.state.attempts).toBe(6);
    expect(handle.connected).toBe(true);
    await clock.advance(5_000); // up for 5 s: stable, so the next wait is back to 100
    await clock.advance(100);
    expect(p.state.attempts).toBe(7);
    await handle.stop();
    expect(handle.connected).toBe(false);
  });
});
