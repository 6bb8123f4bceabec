// The Python stage of npm test: Debian's packages for the Python agent and
// worker, then pytest over python/ under /usr/bin/python3, counted from its
// JUnit XML (exit 5, "no tests collected", is 0 passed, not a failure).
import { existsSync, readFileSync } from "node:fs";
import { ensureDebianPackages, root, run } from "./lib.js";

const DIST = "/usr/lib/python3/dist-packages";

/** What the Python code, its stubs and its checks need, by a file each package installs. */
export const PYTHON_PACKAGES = [
  { name: "python3-grpcio", binary: `${DIST}/grpc/__init__.py` },
  { name: "python3-protobuf", binary: `${DIST}/google/protobuf/__init__.py` },
  { name: "python3-pytest", binary: `${DIST}/pytest/__init__.py` },
  { name: "protobuf-compiler", binary: "/usr/bin/protoc" },
  { name: "protobuf-compiler-grpc", binary: "/usr/bin/grpc_python_plugin" },
  { name: "black", binary: "/usr/bin/black" },
  { name: "pyflakes3", binary: "/usr/bin/pyflakes3" },
  { name: "mypy", binary: `${DIST}/mypy/__init__.py` },
];

export function ensurePythonPackages() {
  return ensureDebianPackages(PYTHON_PACKAGES, { required: true });
}

/** Counts from a JUnit XML report: { passed, failed, skipped }, or undefined when unreadable. */
export function countJunit(xml) {
  const suites = [...xml.matchAll(/<testsuite\b([^>]*)>/g)].map((m) => m[1] ?? "");
  if (suites.length === 0) return undefined;
  const total = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  for (const attrs of suites)
    for (const key of Object.keys(total)) {
      const value = new RegExp(`\\b${key}="(\\d+)"`).exec(attrs)?.[1];
      total[key] += value ? Number(value) : 0;
    }
  const failed = total.failures + total.errors;
  return { passed: total.tests - failed - total.skipped, failed, skipped: total.skipped };
}

/** Runs pytest; resolves with its counts (a crash that wrote no report is one failure). */
export async function runPythonTests({ env = {} } = {}) {
  const report = "test-results/pytest.xml";
  const code = await run(
    "/usr/bin/python3",
    ["-m", "pytest", "python", "-q", "-p", "no:cacheprovider", `--junitxml=${report}`],
    { timeoutMs: 20 * 60_000, env },
  );
  if (code === 5) return { passed: 0, failed: 0, skipped: 0 };
  const counts = existsSync(`${root}${report}`)
    ? countJunit(readFileSync(`${root}${report}`, "utf8"))
    : undefined;
  if (!counts) return { passed: 0, failed: 1, skipped: 0 };
  // pytest failing without a failed test (an internal error, an interrupted run) still fails.
  if (code !== 0 && counts.failed === 0) counts.failed = 1;
  return counts;
}
