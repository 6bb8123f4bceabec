import type { Http2Session } from "node:http2";

export type PingResult = { ok: true; rttMs: number } | { ok: false; reason: string };

/**
 * A Beam harness's heartbeat: an HTTP/2 PING on its connection every
 * `intervalMs`, each with a deadline, at most one outstanding. Cheap for the
 * harness (its HTTP/2 stack answers; no thread dump is taken), and it proves
 * the connection and the peer's network stack are alive. Returns the stop
 * function.
 */
export function startPinger(
  session: Http2Session | undefined,
  intervalMs: number,
  deadlineMs: number,
  report: (result: PingResult) => void,
): () => void {
  if (!session) return () => undefined;
  let outstanding: NodeJS.Timeout | undefined;
  let stopped = false;
  const ping = () => {
    if (outstanding || stopped || session.destroyed || session.closed) return;
    const sentAt = performance.now();
    outstanding = setTimeout(() => {
      outstanding = undefined;
      if (!stopped)
        report({ ok: false, reason: `no PING acknowledgement within ${deadlineMs} ms` });
    }, deadlineMs);
    try {
      session.ping((err) => {
        if (!outstanding) return; // already counted as missed
        clearTimeout(outstanding);
        outstanding = undefined;
        if (stopped) return;
        if (err) report({ ok: false, reason: `PING failed: ${err.message}` });
        else report({ ok: true, rttMs: performance.now() - sentAt });
      });
    } catch (err) {
      clearTimeout(outstanding);
      outstanding = undefined;
      report({ ok: false, reason: `PING failed: ${(err as Error).message}` });
    }
  };
  ping();
  const timer = setInterval(ping, intervalMs);
  return () => {
    stopped = true;
    clearInterval(timer);
    if (outstanding) clearTimeout(outstanding);
  };
}
