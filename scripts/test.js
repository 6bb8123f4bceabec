// npm test: install what is missing, then check, build, unit, integration,
// Python and end-to-end tests. Every stage runs even if an earlier one failed (except a
// failed install), and the last line is `N passed, N failed` over all of them.
//
// STALLWATCH_SKIP_E2E=1 skips the browser journeys (local speed only; CI runs all).
import { readFileSync, rmSync, mkdirSync } from "node:fs";
import { ensureDebianPackages, ensureNodeModules, postgresBinary, root, run, say } from "./lib.js";
import { ensurePythonPackages, runPythonTests } from "./python-tests.js";

const results = `${root}test-results`;
rmSync(results, { recursive: true, force: true });
mkdirSync(results, { recursive: true });

if (!(await ensureNodeModules())) {
  say("npm dependencies could not be installed");
  process.stdout.write("0 passed, 1 failed\n");
  process.exit(1);
}
const skipE2e = process.env.STALLWATCH_SKIP_E2E === "1";
const haveBrowser =
  skipE2e ||
  (await ensureDebianPackages([{ name: "chromium", binary: "/usr/bin/chromium" }], {
    required: true,
  }));
// PostgreSQL for the store's shared suite and the cluster tests (the
// harness runs its own throw-away server, never the system's).
const havePostgres = await ensureDebianPackages(
  [{ name: "postgresql", binary: postgresBinary() ?? "/usr/lib/postgresql/15/bin/postgres" }],
  { required: true },
);
if (!havePostgres) say("PostgreSQL is missing: the PostgreSQL store and cluster tests will fail");
// promtool checks /metrics and the alert rules; a real Prometheus checks the
// Grafana dashboard. Those tests fail (never skip) without them.
const havePrometheus = await ensureDebianPackages(
  [
    { name: "prometheus", binary: "/usr/bin/promtool" },
    { name: "prometheus", binary: "/usr/bin/prometheus" },
  ],
  { required: true },
);
if (!havePrometheus) say("Prometheus is missing: the alert-rule and dashboard tests will fail");

// Python agent and worker: pytest, black, pyflakes3, protoc and the gRPC plugin.
const havePython = await ensurePythonPackages();
if (!havePython) say("Debian's Python packages are missing: the Python stage will fail");

const tally = { passed: 0, failed: 0, skipped: 0 };
const lines = [];
function count(stage, passed, failed, skipped = 0) {
  tally.passed += passed;
  tally.failed += failed;
  tally.skipped += skipped;
  lines.push(
    `${stage.padEnd(12)} ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`,
  );
}
function readJson(file) {
  try {
    return JSON.parse(readFileSync(`${results}/${file}`, "utf8"));
  } catch {
    return undefined;
  }
}

// 1. check: each step is one test.
await run("node", ["scripts/check.js", "--json", "test-results/check.json"], {
  timeoutMs: 10 * 60_000,
});
const check = readJson("check.json");
if (check) count("check", check.filter((s) => s.ok).length, check.filter((s) => !s.ok).length);
else count("check", 0, 1);

// 2. build (what integration and e2e run against).
const built = (await run("npm", ["run", "-s", "build"], { timeoutMs: 10 * 60_000 })) === 0;
count("build", built ? 1 : 0, built ? 0 : 1);

// 3-4. Vitest projects.
for (const project of ["unit", "integration"]) {
  const file = `${project}.json`;
  await run(
    "npx",
    [
      "vitest",
      "run",
      "--project",
      project,
      "--passWithNoTests",
      "--reporter=default",
      "--reporter=json",
      `--outputFile=test-results/${file}`,
    ],
    { timeoutMs: 30 * 60_000, env: { STALLWATCH_SKIP_BUILD: built ? "1" : "0" } },
  );
  const report = readJson(file);
  if (report)
    count(
      project,
      report.numPassedTests,
      report.numFailedTests + (report.success === false && report.numFailedTests === 0 ? 1 : 0),
      report.numPendingTests + report.numTodoTests,
    );
  else count(project, 0, 1);
}

// 5. Python unit and integration tests (against the build, like the integration project).
if (havePython) {
  const py = await runPythonTests();
  count("python", py.passed, py.failed, py.skipped);
} else count("python", 0, 1);

// 6. Playwright journeys in Debian Chromium.
if (skipE2e) {
  lines.push("e2e          skipped (STALLWATCH_SKIP_E2E=1)");
} else if (!haveBrowser) {
  count("e2e", 0, 1);
} else {
  await run("npx", ["playwright", "test", "--pass-with-no-tests"], { timeoutMs: 30 * 60_000 });
  const report = readJson("e2e.json");
  if (report?.stats) {
    const s = report.stats;
    count("e2e", s.expected + (s.flaky ?? 0), s.unexpected, s.skipped ?? 0);
  } else count("e2e", 0, 1);
}

process.stdout.write("\n" + lines.join("\n") + "\n");
process.stdout.write(
  `${tally.passed} passed, ${tally.failed} failed${tally.skipped ? `, ${tally.skipped} skipped` : ""}\n`,
);
process.exit(tally.failed === 0 && tally.passed > 0 ? 0 : 1);
