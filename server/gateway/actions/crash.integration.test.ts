import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { runCrashTrials } from "../../testing/crash-trials.js";
import { freshDbPath, killAllStarted } from "../../testing/spawn-stallwatch.js";

const CLI = fileURLToPath(new URL("../../../bin/stallwatch.js", import.meta.url));
const TRIALS = Number(process.env.STALLWATCH_CRASH_TRIALS ?? 20);

describe("kill -9 of the gateway during action and snapshot writes", () => {
  afterAll(() => killAllStarted());

  it(
    `loses nothing acknowledged, never leaves an action without its audit record or RUNNING, keeps the database intact (${TRIALS} trials)`,
    async () => {
      const results = await runCrashTrials({ cli: CLI, db: freshDbPath(), trials: TRIALS });
      expect(results).toHaveLength(TRIALS);
      const sum = (f: (r: (typeof results)[number]) => number) =>
        results.reduce((n, r) => n + f(r), 0);
      expect(sum((r) => r.acknowledged)).toBeGreaterThan(TRIALS * 5);
      // Some kills must have caught actions in flight, or reconciliation went untested.
      expect(sum((r) => r.reconciled)).toBeGreaterThan(0);
      for (const r of results) {
        expect(r).toMatchObject({
          lost: 0,
          withoutAudit: 0,
          stillRunning: 0,
          integrity: "ok",
          idempotent: true,
        });
      }
    },
    TRIALS * 10_000 + 30_000,
  );
});
