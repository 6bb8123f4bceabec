// npm run bench: build, then run every bench/*.bench.ts (compiled to dist/bench)
// one after another. Figures are printed, never asserted.
import { readdirSync } from "node:fs";
import { ensureNodeModules, root, run, say } from "./lib.js";

if (!(await ensureNodeModules())) process.exit(1);
if ((await run("npm", ["run", "-s", "build"], { timeoutMs: 10 * 60_000 })) !== 0) process.exit(1);
if ((await run("npx", ["tsc", "-p", "bench/tsconfig.json"], { timeoutMs: 5 * 60_000 })) !== 0)
  process.exit(1);

const only = process.argv[2];
const benches = readdirSync(`${root}bench`).filter(
  (f) => f.endsWith(".bench.ts") && (!only || f.includes(only)),
);
let failed = 0;
for (const file of benches) {
  say(`bench: ${file}`);
  const code = await run("node", [`dist/bench/${file.replace(/\.ts$/, ".js")}`], {
    // The calm-fleet policy bench runs 30 minutes by default (BENCH_MINUTES shortens it).
    timeoutMs: file.startsWith("policy-calm") ? 45 * 60_000 : 10 * 60_000,
  });
  if (code !== 0) failed += 1;
}
process.exit(failed === 0 ? 0 : 1);
