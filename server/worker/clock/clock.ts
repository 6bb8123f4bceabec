/**
 * Time as the worker's services see it: what time it is and "call me in N ms".
 * Every time-based service in the worker takes one, so tests drive timers with
 * {@link FakeClock} (clock/testing) instead of waiting for real time.
 */
export interface Clock {
  /** Milliseconds since the epoch, like `Date.now()`. */
  now(): number;
  /**
   * Calls `fn` once after `ms`; the returned function cancels it (a no-op once
   * it ran). Real timers do not keep the process alive: whoever needs the
   * process to stay up holds a socket or a server, not a timer.
   */
  after(ms: number, fn: () => void): () => void;
}

/** The wall clock and Node's timers. */
export const realClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const timer = setTimeout(fn, Math.max(0, ms));
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/** Sleeps `ms`, waking early (and resolving, never rejecting) when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal, clock: Clock = realClock): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const cancel = clock.after(ms, done);
    function done() {
      cancel();
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * `promise`, or `undefined` once `ms` have passed, whichever comes first. The
 * timer is cancelled either way so nothing lingers after a fast answer.
 */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  clock: Clock = realClock,
): Promise<T | undefined> {
  let cancel: () => void = () => undefined;
  const timeout = new Promise<undefined>((resolve) => {
    cancel = clock.after(ms, () => resolve(undefined));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    cancel();
  }
}
