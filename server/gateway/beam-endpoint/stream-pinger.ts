import type { Clock, Timer } from "../../shared/clock/clock.js";

export type PingResult = { ok: true; rttMs: number } | { ok: false; reason: string };

/** The part of an HTTP/2 session (node:http2) the pinger uses; a test passes its own. */
export interface Pingable {
  readonly destroyed: boolean;
  readonly closed: boolean;
  ping(callback: (err: Error | null, duration: number, payload: Buffer) => void): boolean;
}

/**
 * A Beam harness's heartbeat: an HTTP/2 PING on its connection every
 * `intervalMs` on `clock`, each with a deadline, at most one outstanding.
 * Cheap for the harness (its HTTP/2 stack answers; no thread dump is taken),
 * and it proves the connection and the peer's network stack are alive. The
 * round trip is measured on the clock's monotonic time. Returns the stop
 * function.
 */
export function startPinger(
  session: Pingable | undefined,
  opts: { intervalMs: number; deadlineMs: number; clock: Clock },
  report: (result: PingResult) => void,
): () => void {
  if (!session) return () => undefined;
  const { intervalMs, deadlineMs, clock } = opts;
  let outstanding: Timer | undefined;
  let stopped = false;
  const settle = () => {
    outstanding?.cancel();
    outstanding = undefined;
  };
  const ping = () => {
    if (outstanding || stopped || session.destroyed || session.closed) return;
    const sentAt = clock.monotonic();
    const deadline = clock.after(deadlineMs, () => {
      if (outstanding !== deadline) return;
      outstanding = undefined;
      if (!stopped)
        report({ ok: false, reason: `no PING acknowledgement within ${deadlineMs} ms` });
    });
    outstanding = deadline;
    try {
      session.ping((err) => {
        if (outstanding !== deadline) return; // already counted as missed
        settle();
        if (stopped) return;
        if (err) report({ ok: false, reason: `PING failed: ${err.message}` });
        else report({ ok: true, rttMs: clock.monotonic() - sentAt });
      });
    } catch (err) {
      settle();
      report({ ok: false, reason: `PING failed: ${(err as Error).message}` });
    }
  };
  ping();
  const cadence = clock.every(intervalMs, ping);
  return () => {
    stopped = true;
    cadence.cancel();
    settle();
  };
}
