// npm run check, "import direction": the rules in .dependency-cruiser.cjs
// (programs apart, shared/ a leaf, the SPA reusing only server/shared/words,
// no file cycles, product code never importing test code), plus cycles
// between folders. dependency-cruiser parses and resolves every import; a
// folder here is one directory (its own files, not its subfolders): the
// gateway's root importing cluster/ while cluster/ imports the root is a
// cycle, which dependency-cruiser's own folder scope (subfolders included)
// cannot see. Exits non-zero on any violation, naming the imports involved.
import { spawnSync } from "node:child_process";
import { root, say } from "./lib.js";

const cruise = spawnSync(
  "npx",
  ["depcruise", "server", "web", "--config", ".dependency-cruiser.cjs", "--output-type", "json"],
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

// Folder cycles: strongly connected components of the directory graph
// (Tarjan), over product code (tests and testing/ folders are left out).
const folderOf = (path) => path.slice(0, path.lastIndexOf("/"));
const isProduct = (path) =>
  /^(server|web)\//.test(path) && !/(\/testing\/|\.test\.tsx?$)/.test(path);
const edges = new Map();
const why = new Map();
for (const module of result.modules) {
  if (!isProduct(module.source)) continue;
  for (const dep of module.dependencies) {
    if (!isProduct(dep.resolved)) continue;
    const from = folderOf(module.source);
    const to = folderOf(dep.resolved);
    if (from === to) continue;
    if (!edges.has(from)) edges.set(from, new Set());
    edges.get(from).add(to);
    why.set(`${from} ${to}`, `${module.source} imports ${dep.resolved}`);
  }
}
let next = 0;
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const cycles = [];
function visit(node) {
  index.set(node, next);
  low.set(node, next++);
  stack.push(node);
  onStack.add(node);
  for (const to of edges.get(node) ?? []) {
    if (!index.has(to)) {
      visit(to);
      low.set(node, Math.min(low.get(node), low.get(to)));
    } else if (onStack.has(to)) low.set(node, Math.min(low.get(node), index.get(to)));
  }
  if (low.get(node) !== index.get(node)) return;
  const component = [];
  let member;
  do {
    member = stack.pop();
    onStack.delete(member);
    component.push(member);
  } while (member !== node);
  if (component.length > 1) cycles.push(component);
}
for (const node of edges.keys()) if (!index.has(node)) visit(node);
for (const component of cycles) {
  failed = true;
  say(`folder cycle: ${component.join(" ↔ ")}`);
  for (const from of component)
    for (const to of component) {
      const line = why.get(`${from} ${to}`);
      if (line) say(`  ${line}`);
    }
}

say(
  failed
    ? "import direction: violations above"
    : `import direction: ${result.summary.totalCruised} modules, no rule broken, no folder cycle`,
);
process.exit(failed ? 1 : 0);
