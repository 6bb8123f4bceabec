// Crash trials: kill -9 of the gateway with action and snapshot writes in
// flight, restart on the same database, and count what survived. Printed,
// never asserted. STALLWATCH_CRASH_BENCH_TRIALS overrides the count. With
// Debian's sqlite3 present, each trial also has a concurrent reader (select +
// PRAGMA integrity_check in a loop) and one online backup (issue 18).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HAVE_SQLITE3 } from "../server/testing/concurrent-reader.js";
import { COMPILED_CLI, runCrashTrials } from "../server/testing/crash-trials.js";
import { percentile, table } from "./harness.js";

const trials = Number(process.env.STALLWATCH_CRASH_BENCH_TRIALS ?? 50);
const dir = mkdtempSync(join(tmpdir(), "stallwatch-crash-bench-"));
try {
  const results = await runCrashTrials({
    cli: COMPILED_CLI,
    db: join(dir, "stallwatch.db"),
    trials,
    concurrentReader: HAVE_SQLITE3,
    onTrial: (n, r) => {
      if (n % 10 === 0) console.log(`trial ${n}/${trials}: ${r.acknowledged} acknowledged`);
    },
  });
  const sum = (f: (r: (typeof results)[number]) => number) => results.reduce((n, r) => n + f(r), 0);
  const reconciling = results.filter((r) => r.reconciled > 0).map((r) => r.reconcileMs);
  const ready = results.map((r) => r.restartToReadyMs);
  table([
    { what: "trials", figure: results.length },
    { what: "acknowledged writes", figure: sum((r) => r.acknowledged) },
    { what: "lost writes (target 0)", figure: sum((r) => r.lost) },
    { what: "actions without audit (target 0)", figure: sum((r) => r.withoutAudit) },
    { what: "RUNNING after reconciliation (target 0)", figure: sum((r) => r.stillRunning) },
    { what: "integrity_check not ok", figure: results.filter((r) => r.integrity !== "ok").length },
    {
      what: "concurrent reader",
      figure: HAVE_SQLITE3 ? "sqlite3, 1 per trial" : "none (no sqlite3)",
    },
    { what: "reader sqlite3 runs (select + integrity_check)", figure: sum((r) => r.readerQueries) },
    { what: "reader runs failed or not ok (target 0)", figure: sum((r) => r.readerNotOk) },
    { what: "online backups taken", figure: sum((r) => r.backups) },
    {
      what: "backups not ok or missing acknowledged writes (target 0)",
      figure: results.filter((r) => r.backupIntegrity !== "ok" || r.backupMissing > 0).length,
    },
    { what: "actions reconciled", figure: sum((r) => r.reconciled) },
    { what: "time to reconcile p50 (ms)", figure: Math.round(percentile(reconciling, 50)) },
    { what: "time to reconcile p95 (ms)", figure: Math.round(percentile(reconciling, 95)) },
    { what: "restart to ready p50 (ms)", figure: Math.round(percentile(ready, 50)) },
    { what: "restart to ready p95 (ms)", figure: Math.round(percentile(ready, 95)) },
  ]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
