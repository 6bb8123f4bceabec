// The folder-level import graph behind `npm run check`'s cycle rule, kept
// apart from the script that prints it so a test can run it on a made-up
// tree. Plain ESM on Node built-ins (it runs in `npm run check`, whose other
// steps need no build).

/** Product code: under server/ or web/, neither a test nor a testing/ folder. */
export function isProductCode(path) {
  return /^(server|web)\//.test(path) && !/(\/testing\/|\.test\.tsx?$)/.test(path);
}

/** The directory a file is in: each directory is its own node. */
export function directoryOf(path) {
  return path.slice(0, path.lastIndexOf("/"));
}

/**
 * The feature a file belongs to: its path cut after three segments
 * (`server/gateway/status-intake`, `web/features/worker-page`, `server/worker/sessions`),
 * so a subfolder counts as its feature. A file nearer the root stays in its
 * own directory (`server/gateway/gateway.ts` is `server/gateway`).
 */
export function featureOf(path) {
  const parts = directoryOf(path).split("/");
  return parts.slice(0, 3).join("/");
}

/**
 * Edges between groups of files. `modules` is dependency-cruiser's JSON
 * `modules` list; `groupOf` names the node a file belongs to. Returns the
 * edges and, per edge, one import that makes it (for the error message).
 */
export function groupEdges(modules, groupOf) {
  const edges = new Map();
  const why = new Map();
  for (const module of modules) {
    if (!isProductCode(module.source)) continue;
    for (const dep of module.dependencies) {
      if (!isProductCode(dep.resolved)) continue;
      const from = groupOf(module.source);
      const to = groupOf(dep.resolved);
      if (from === to) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from).add(to);
      if (!why.has(`${from} ${to}`))
        why.set(`${from} ${to}`, `${module.source} imports ${dep.resolved}`);
    }
  }
  return { edges, why };
}

/** Strongly connected components of more than one node (Tarjan), iteration order kept. */
export function cyclesOf(edges) {
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
    if (component.length > 1) cycles.push(component.reverse());
  }
  for (const node of edges.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

/**
 * Every cycle at both cuts, as printable lines: between directories (a folder
 * and its parent may not import each other) and between features (a cycle
 * that runs through a subfolder, which the directory cut cannot see).
 */
export function folderCycleReport(modules) {
  const lines = [];
  for (const [cut, groupOf] of [
    ["folder", directoryOf],
    ["feature", featureOf],
  ]) {
    const { edges, why } = groupEdges(modules, groupOf);
    for (const component of cyclesOf(edges)) {
      lines.push(`${cut} cycle: ${component.join(" ↔ ")}`);
      for (const from of component)
        for (const to of component) {
          const line = why.get(`${from} ${to}`);
          if (line) lines.push(`  ${line}`);
        }
    }
  }
  return lines;
}

/**
 * Gateway features that no layer names. `layers` is the list in
 * .dependency-cruiser.cjs; a new feature must take its place there, or the
 * layering rules would silently not apply to it.
 */
export function unlayeredGatewayFeatures(modules, layers) {
  const known = new Set(layers.flat());
  const missing = new Set();
  for (const module of modules) {
    if (!isProductCode(module.source)) continue;
    const match = /^server\/gateway\/([^/]+)\//.exec(module.source);
    if (match && !known.has(match[1])) missing.add(match[1]);
  }
  return [...missing].sort();
}
