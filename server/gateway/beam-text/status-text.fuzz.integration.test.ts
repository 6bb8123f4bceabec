import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";

const WORKER = fileURLToPath(
  new URL("../../../dist/server/gateway/beam-text/fuzz-worker.js", import.meta.url),
);

/**
 * Fuzzes the Beam status parsers with fast-check inside a worker thread under
 * a watchdog: if one parse does not return within `stallMs`, the thread is
 * terminated and the test fails with the input that hung it. Inputs are
 * bounded (8 KiB), so a single parse has no excuse to take long.
 */
function fuzz(
  seed: number,
  runs: number,
  stallMs = 10_000,
): Promise<{ runs: number; error?: string; hung?: string }> {
  return new Promise((resolve) => {
    const w = new Worker(WORKER, { workerData: { seed, runs, maxChars: 8192 } });
    let count = 0;
    let last = "";
    let timer = setTimeout(hang, stallMs);
    function hang() {
      void w.terminate();
      resolve({ runs: count, hung: last.slice(0, 500) });
    }
    w.on("message", (m: { kind: string; input?: string }) => {
      if (m.kind === "done") {
        clearTimeout(timer);
        void w.terminate();
        resolve({ runs: count });
        return;
      }
      count += 1;
      last = m.input ?? "";
      clearTimeout(timer);
      timer = setTimeout(hang, stallMs);
    });
    w.on("error", (err) => {
      clearTimeout(timer);
      resolve({ runs: count, error: err.message });
    });
  });
}

describe("Beam status parsers under fuzzing", () => {
  it("always return, within their caps", async () => {
    const result = await fuzz(20261201, 3000);
    expect(result.hung).toBeUndefined();
    expect(result.error).toBeUndefined();
    expect(result.runs).toBeGreaterThanOrEqual(3000);
  }, 120_000);
});
