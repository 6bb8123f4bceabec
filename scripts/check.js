// npm run check: generated code fresh + typecheck + lint + import direction + docs + format. Runs every
// step, reports each, exits non-zero if any failed. `--json FILE` writes the
// per-step results for the test summary.
import { writeFileSync, mkdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { root, run, say } from "./lib.js";
import { generatePython, pythonGenDir } from "./generate-python.js";
import { pythonSources } from "./python-files.js";

async function generatedCodeIsFresh() {
  if ((await run("npx", ["buf", "generate"], { timeoutMs: 120_000 })) !== 0) return false;
  if (!(await generatePython())) return false;
  const status = spawnSync("git", ["status", "--porcelain", "--", "gen", pythonGenDir], {
    cwd: root,
    encoding: "utf8",
  });
  if (status.status !== 0) {
    say("git is not available: cannot tell whether gen/ changed");
    return false;
  }
  if (status.stdout.trim() !== "") {
    say(`generated code is stale: run \`npm run generate\` and commit gen/ and ${pythonGenDir}/`);
    process.stdout.write(status.stdout);
    return false;
  }
  return true;
}

const steps = [
  ["generated code is fresh", generatedCodeIsFresh],
  ["typecheck", () => run("npm", ["run", "-s", "typecheck"]).then((c) => c === 0)],
  [
    "lint (buf + eslint, zero warnings)",
    () => run("npm", ["run", "-s", "lint"]).then((c) => c === 0),
  ],
  [
    "import direction (dependency-cruiser rules, gateway layers, no folder or feature cycles)",
    () => run("node", ["scripts/check-imports.js"], { timeoutMs: 5 * 60_000 }).then((c) => c === 0),
  ],
  [
    "python format (black --check)",
    () => run("black", ["--check", "--quiet", "python"]).then((c) => c === 0),
  ],
  ["python lint (pyflakes3)", () => run("pyflakes3", pythonSources()).then((c) => c === 0)],
  [
    // Settings (generated stubs excluded, grpcio and protobuf untyped) in python/pyproject.toml.
    "python types (mypy)",
    () =>
      run("/usr/bin/python3", ["-m", "mypy", "--config-file", "python/pyproject.toml", "python"], {
        timeoutMs: 5 * 60_000,
      }).then((c) => c === 0),
  ],
  [
    "docs name only what exists (links, headings, code paths)",
    () => run("node", ["scripts/check-docs.js"], { timeoutMs: 120_000 }).then((c) => c === 0),
  ],
  [
    "format (prettier)",
    () => run("npx", ["prettier", "--check", "--log-level", "warn", "."]).then((c) => c === 0),
  ],
];

const results = [];
for (const [name, step] of steps) {
  say(`check: ${name}`);
  const ok = await step();
  results.push({ name, ok });
}
for (const { name, ok } of results) say(`${ok ? "PASS" : "FAIL"}  ${name}`);

const jsonAt = process.argv.indexOf("--json");
if (jsonAt > 0 && process.argv[jsonAt + 1]) {
  const file = process.argv[jsonAt + 1];
  mkdirSync(new URL(".", `file://${root}${file}`).pathname, { recursive: true });
  writeFileSync(`${root}${file}`, JSON.stringify(results));
}
process.exit(results.every((r) => r.ok) ? 0 : 1);
