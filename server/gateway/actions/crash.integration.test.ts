import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { HAVE_SQLITE3 } from "../../testing/concurrent-reader.js";
import { runCrashTrials } from "../../testing/crash-trials.js";
import { freshDbPath, killAllStarted } from "../../testing/spawn-stallwatch.js";

const CLI = fileURLToPath(new URL("../../../bin/stallwatch.js", import.meta.url));
const TRIALS = Number(process.env.STALLWATCH_CRASH_TRIALS ?? 20);
// Issue 18: without another process opening the database, a gateway that
// has lost its file locks loses nothing; with one, acknowledged writes went
// to a deleted WAL. Debian's sqlite3 is that other process.
const reader = HAVE_SQLITE3
  ? "a sqlite3 process querying and backing up alongside"
  : "no reader (no /usr/bin/sqlite3)";

describe("kill -9 of the gateway during action and snapshot writes", () => {
  afterAll(() => killAllStarted());

  it(
    `loses nothing acknowledged, never leaves an action without its audit record or RUNNING, keeps the database and its online backups intact (${TRIALS} trials, ${reader})`,
    async () => {
      const results = await runCrashTrials({
        cli: CLI,
        db: freshDbPath(),
        trials: TRIALS,
        concurrentReader: HAVE_SQLITE3,
      });
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
          readerNotOk: 0,
          backupIntegrity: "ok",
          backupMissing: 0,
        });
        // Every trial had its reader and its backup while writes were acknowledged.
        if (HAVE_SQLITE3) expect(r.backups).toBe(1);
      }
      if (HAVE_SQLITE3) expect(sum((r) => r.readerQueries)).toBeGreaterThanOrEqual(TRIALS);
    },
    // Each trial now also waits for its reader's online backup before the kill.
    TRIALS * 20_000 + 30_000,
  );
});
