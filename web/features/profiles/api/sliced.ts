/**
 * Work cut into steps, run in tasks short enough that the page stays
 * responsive. A profile of 5,000 distinct frames has ~130,000 frame
 * references to fold for the table and as many for the flame graph; done in
 * one go inside a React render or an effect, that was one task of 50-90 ms
 * on a 2-core machine (bench/profile-view.bench.ts, the Chromium trace in
 * the README), over the 50 ms long-task limit.
 *
 * A computation is written once, as a generator that `yield`s wherever it
 * may pause (every few hundred items, cheap to check), and returns its
 * result; `runNow` runs it to the end synchronously (tests, small inputs),
 * `runSliced` in tasks of about `budgetMs` each.
 */

/** A computation that yields where it may pause and returns its result. */
export type Steps<T> = Generator<void, T, void>;

/** Runs every step at once: the synchronous form of the same computation. */
export function runNow<T>(steps: Steps<T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Chromium's `scheduler.yield()` (not in TypeScript's DOM lib yet). */
interface YieldingScheduler {
  yield: () => Promise<void>;
}

/**
 * Ends the current task and resolves at the start of a later one, after the
 * browser had its chance to paint and take input. `scheduler.yield()` where
 * there is one (the continuation goes ahead of other queued work, so slicing
 * costs little total time); otherwise a MessageChannel message, which, unlike
 * a nested `setTimeout(0)`, is not clamped to 4 ms.
 */
export function nextTask(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: Partial<YieldingScheduler> }).scheduler;
  if (typeof scheduler?.yield === "function") return scheduler.yield();
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

export interface SliceOptions {
  /** Stop at the next pause: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** How long one task may run steps before it gives way; 0 = after every step. */
  budgetMs?: number;
  /** How to give way (tests count these); `nextTask` by default. */
  yieldTo?: () => Promise<void>;
}

/**
 * Runs `steps` in tasks of about `budgetMs` each (10 ms by default: well
 * under the 50 ms long-task limit, even when a step overshoots on a loaded
 * machine). It starts in a task of its own, so the caller's task (a React
 * commit, the code's load) does not grow by a slice.
 */
export async function runSliced<T>(steps: Steps<T>, options: SliceOptions = {}): Promise<T> {
  const { signal, budgetMs = 10, yieldTo = nextTask } = options;
  for (;;) {
    await yieldTo();
    signal?.throwIfAborted();
    const sliceStart = performance.now();
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
      if (performance.now() - sliceStart >= budgetMs) break;
    }
  }
}
