// npm run check, "import direction": the rules in .dependency-cruiser.cjs
// (the gateway's layers from scripts/gateway-layers.cjs, programs apart,
// shared/ a leaf, the SPA reusing only server/shared/words, no file cycles,
// product code never importing test code), plus cycles between folders at
// two cuts (scripts/import-graph.js): each directory on its own, and each
// feature with its subfolders. dependency-cruiser's own folder scope sees
// neither a folder importing its parent nor a cycle that runs through a
// subfolder (beam-endpoint → status/beam-text while status → beam-endpoint, before the rename to status-intake).
// Exits non-zero on any violation, naming the imports involved.
//
// STALLWATCH_CHECK_ROOT runs it on another tree (scripts/check-imports.test.ts
// does, on a made-up one); the tree needs the config files this one has.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { root as repoRoot, say } from "./lib.js";
import { folderCycleReport, unlayeredGatewayFeatures } from "./import-graph.js";

const root = process.env.STALLWATCH_CHECK_ROOT ?? repoRoot;
const depcruise = `${repoRoot}node_modules/.bin/depcruise`;
const cruise = spawnSync(
  depcruise,
  ["server", "web", "--config", ".dependency-cruiser.cjs", "--output-type", "json"],
  { cwd: root, encoding: "utf8", maxBuffer: 256 << 20, timeout: 5 * 60_000 },
);
if (cruise.status === null || !cruise.stdout) {
  say(`dependency-cruiser did not run: ${cruise.error?.message ?? cruise.stderr}`);
  process.exit(1);
}
const result = JSON.parse(cruise.stdout);

let failed = false;
for (const v of result.summary.violations) {
  failed = true;
  const via = v.cycle ? v.cycle.map((c) => c.name ?? c).join(" → ") : v.to;
  say(`import rule "${v.rule.name}": ${v.from} → ${via}`);
}

for (const line of folderCycleReport(result.modules)) {
  failed = true;
  say(line);
}

const layers = createRequire(`${root}/`)("./scripts/gateway-layers.cjs");
for (const feature of unlayeredGatewayFeatures(result.modules, layers)) {
  failed = true;
  say(
    `server/gateway/${feature}/ is in no layer: add it to scripts/gateway-layers.cjs (and docs/architecture.md)`,
  );
}

say(
  failed
    ? "import direction: violations above"
    : `import direction: ${result.summary.totalCruised} modules, no rule broken, no folder or feature cycle`,
);
process.exit(failed ? 1 : 0);
