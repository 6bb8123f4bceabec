import type { FrameTable, StackCounts } from "./folded-stacks.js";

/** The parts of a V8 `Profiler.Profile` (Chrome DevTools protocol) we read. */
export interface V8Profile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/**
 * Folds a V8 CPU profile into `counts`: each sample becomes its node's path
 * from the root, the synthetic "(root)" left out, V8's `(idle)`, `(program)`
 * and `(garbage collector)` kept as frames of their own. `keep(tUs)` decides
 * per sample (by its time on V8's monotonic clock, µs, and its innermost
 * function's name) whether it counts; returns how many samples were seen.
 */
export function foldV8Profile(
  profile: V8Profile,
  table: FrameTable,
  counts: StackCounts,
  keep: (tUs: number, leaf: string) => boolean = () => true,
): number {
  const parent = new Map<number, number>();
  const byId = new Map<number, V8Profile["nodes"][number]>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const paths = new Map<number, number[]>();
  const pathOf = (id: number): number[] => {
    const cached = paths.get(id);
    if (cached) return cached;
    const chain: number[] = [];
    // Bounded by the node count: a malformed profile with a cycle cannot loop.
    for (let at: number | undefined = id, n = 0; at !== undefined && n <= byId.size; n++) {
      chain.push(at);
      at = parent.get(at);
    }
    const frames: number[] = [];
    for (let i = chain.length - 1; i >= 0; i--) {
      const frame = byId.get(chain[i] ?? -1)?.callFrame;
      if (!frame || frame.functionName === "(root)") continue;
      frames.push(
        table.indexOf({
          fn: frame.functionName || "(anonymous)",
          file: frame.url.replace(/^file:\/\//, ""),
          line: frame.lineNumber >= 0 ? frame.lineNumber + 1 : 0,
        }),
      );
    }
    paths.set(id, frames);
    return frames;
  };
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    const id = samples[i] ?? -1;
    if (keep(t, byId.get(id)?.callFrame.functionName ?? "")) counts.add(pathOf(id));
  }
  return samples.length;
}
