/** A pending timer; cancelling twice, or after it ran, is a no-op. */
export interface Timer {
  cancel(): void;
}

/**
 * Time as a service sees it. Every time-based service takes one, so a unit
 * test drives minutes of escalation, lease expiry or scheduling in
 * microseconds with a fake one (server/testing/fake-clock.ts) instead of
 * sleeping, and never asserts on real durations.
 */
export interface Clock {
  /** Milliseconds since the epoch (Date.now semantics): for timestamps people read. */
  now(): number;
  /**
   * Milliseconds from an arbitrary origin that never jumps (performance.now
   * semantics): for deadlines and schedules, which a wall-clock step must not
   * fire early or hold back.
   */
  monotonic(): number;
  /**
   * Runs `fn` once after `ms`. The timer does not keep the process alive:
   * every timer here is a deadline or a cadence of something else that does.
   */
  after(ms: number, fn: () => void): Timer;
  /** Runs `fn` every `ms` until cancelled; likewise never keeps the process alive. */
  every(ms: number, fn: () => void): Timer;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  after(ms, fn) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
  every(ms, fn) {
    const handle = setInterval(fn, ms);
    handle.unref();
    return { cancel: () => clearInterval(handle) };
  },
};

/** Resolves after `ms` on `clock`, or at once when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const timer = clock.after(ms, done);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      timer.cancel();
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

/**
 * `promise`, or `undefined` once `ms` have passed on `clock`, whichever comes
 * first. The timer is cancelled either way, so nothing lingers after a fast answer.
 */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  clock: Clock,
): Promise<T | undefined> {
  let timer: Timer | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = clock.after(ms, () => resolve(undefined));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    timer?.cancel();
  }
}
