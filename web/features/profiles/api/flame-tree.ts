import type { ProfileResult } from "../../../../gen/stallwatch/v1/agent_pb";
import { runNow, type Steps } from "./sliced";

/** A node of d3-flame-graph's input: `value` counts the node's samples, its children's included. */
export interface FlameNode {
  name: string;
  value: number;
  children: FlameNode[];
}

/** "function (file:line)", or the bare name of a synthetic frame such as (idle). */
export function frameLabel(result: ProfileResult, index: number): string {
  const f = result.frames[index];
  if (!f) return "?";
  return f.file ? `${f.function} (${f.file}:${f.line})` : f.function;
}

/**
 * The folded stacks as one call tree, root first, for an icicle: every
 * thread under a node of its own name when all threads are shown (so one
 * thread's time never merges into another's), or one thread's stacks
 * straight under the root. Linear in the total stack length.
 */
export function flameTree(result: ProfileResult, threadId = ""): FlameNode {
  return runNow(flameTreeSteps(result, threadId));
}

/** Stacks merged between two pauses: ~3,000 frame references at paths ~25 deep. */
const STACKS_PER_STEP = 128;

/** `flameTree` as steps, for `runSliced`: it pauses every 128 stacks (see sliced.ts). */
export function* flameTreeSteps(result: ProfileResult, threadId = ""): Steps<FlameNode> {
  const root: FlameNode = { name: "all", value: 0, children: [] };
  // Every node's children by frame index, in one Map keyed by a number
  // (node id × (frames + 1) + frame): no string keys, no Map per node, no
  // closure per frame; counts add up in a plain array, written to the nodes
  // once at the end. A 5,000-frame profile has ~130,000 frame references to
  // walk, in the browser's first (unoptimized) pass over this code.
  const width = result.frames.length + 1;
  const nodes: FlameNode[] = [root];
  const values: number[] = [0];
  const childOf = new Map<number, number>();
  let merged = 0;
  for (const thread of result.threads) {
    if (threadId !== "" && thread.threadId !== threadId) continue;
    let top = 0;
    if (threadId === "") {
      // All threads: each under a node of its own, so no thread's time merges into another's.
      top = nodes.length;
      const node: FlameNode = { name: thread.name || thread.threadId, value: 0, children: [] };
      nodes.push(node);
      values.push(0);
      root.children.push(node);
    }
    for (const stack of thread.stacks) {
      const n = Number(stack.count);
      values[0] = (values[0] ?? 0) + n;
      if (top !== 0) values[top] = (values[top] ?? 0) + n;
      let at = top;
      for (const frame of stack.frames) {
        const key = at * width + frame;
        let id = childOf.get(key);
        if (id === undefined) {
          id = nodes.length;
          const node: FlameNode = { name: frameLabel(result, frame), value: 0, children: [] };
          nodes.push(node);
          values.push(0);
          nodes[at]?.children.push(node);
          childOf.set(key, id);
        }
        values[id] = (values[id] ?? 0) + n;
        at = id;
      }
      merged += 1;
      if (merged % STACKS_PER_STEP === 0) yield;
    }
  }
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i];
    if (node) node.value = values[i] ?? 0;
  }
  return root;
}
