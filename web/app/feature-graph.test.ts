import { describe, expect, it } from "vitest";

/**
 * eslint keeps imports between features to their index.ts; this keeps the
 * features themselves from depending on each other in a circle (worker ↔
 * snapshots was one, issue 12). Reads the sources as text through Vite.
 */
const sources = import.meta.glob<string>(["../features/**/*.ts", "../features/**/*.tsx"], {
  query: "?raw",
  import: "default",
  eager: true,
});

/** Static imports, re-exports and dynamic imports; our own sources, one line each. */
const SPECIFIER = /(?:\bfrom|\bimport)\s*\(?\s*"([^"\n]{1,200})"/g;

function featureOf(path: string): string | undefined {
  return /^features\/([^/]+)\//.exec(path)?.[1];
}

/** `from` relative to web/, `spec` relative to it; undefined for packages. */
function resolve(from: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const parts = from.split("/").slice(0, -1);
  for (const segment of spec.split("/")) {
    if (segment === "..") parts.pop();
    else if (segment !== ".") parts.push(segment);
  }
  return parts.join("/");
}

function featureGraph(files: Record<string, string>): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const [file, text] of Object.entries(files)) {
    const path = file.replace(/^\.\.\//, "");
    const from = featureOf(path);
    if (!from || path.endsWith(".test.ts") || path.endsWith(".test.tsx")) continue;
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const match of text.matchAll(SPECIFIER)) {
      const target = resolve(path, match[1] ?? "");
      const to = target ? featureOf(`${target}/`) : undefined;
      if (to && to !== from) edges.add(to);
    }
  }
  return graph;
}

/** One cycle as a path that returns to its start, or undefined. */
function findCycle(graph: ReadonlyMap<string, ReadonlySet<string>>): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    const at = path.indexOf(node);
    if (at >= 0) return [...path.slice(at), node];
    if (done.has(node)) return undefined;
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    done.add(node);
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

describe("feature import graph", () => {
  it("reads every feature and sees the edges that exist", () => {
    const graph = featureGraph(sources);
    expect([...graph.keys()].sort()).toContain("worker-page");
    expect(graph.get("snapshots")?.has("worker-page")).toBe(true);
  });

  it("has no cycle between features", () => {
    expect(findCycle(featureGraph(sources))).toBeUndefined();
  });

  it("finds a cycle where there is one", () => {
    const graph = featureGraph({
      "../features/worker/components/page.tsx": 'import { Share } from "../../snapshots/index";',
      "../features/snapshots/components/page.tsx": 'import { View } from "../../worker/index";',
      "../features/fleet/index.ts": 'export { FleetPage } from "./components/fleet-page";',
    });
    expect(findCycle(graph)).toEqual(["worker", "snapshots", "worker"]);
  });
});
