// The Python agent's figures (issue 21): a dump of 200 Python threads (p50/p95),
// agent CPU at the default status cadence, agent memory (worker growth + the
// helper's private pages; the helper's RSS and PSS beside), and (issue 22) the
// sampler's overhead at 100 Hz. The measuring is Python's
// own (python/stallwatch_agent/agent_bench.py, against the built gateway);
// this file runs it under Debian's interpreter. Printed, never asserted.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const python = fileURLToPath(new URL("../../python", import.meta.url));
const result = spawnSync("/usr/bin/python3", ["-m", "stallwatch_agent.agent_bench"], {
  cwd: python,
  stdio: "inherit",
  timeout: 5 * 60_000,
});
if (result.error) {
  process.stderr.write(`python-agent bench: ${result.error.message}\n`);
  process.exit(1);
}
process.exit(result.status ?? 1);
