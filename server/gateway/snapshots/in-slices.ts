/** Longest stretch of snapshot work before letting other callbacks run. */
const SLICE_MS = 8;

/** Lets timers, sockets and probe-thread messages run between slices. */
const pause = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs `fn` over `items`, pausing whenever a slice has taken SLICE_MS, so a
 * snapshot of thousands of workers never holds the event loop for long.
 */
export async function inSlices<T>(items: readonly T[], fn: (item: T) => void): Promise<void> {
  let sliceStart = performance.now();
  for (const item of items) {
    fn(item);
    if (performance.now() - sliceStart >= SLICE_MS) {
      await pause();
      sliceStart = performance.now();
    }
  }
}
