import type { ProfileResult } from "../../../../gen/stallwatch/v1/agent_pb";

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
  const root: FlameNode = { name: "all", value: 0, children: [] };
  const childIndex = new Map<FlameNode, Map<string, FlameNode>>();
  const child = (parent: FlameNode, name: string): FlameNode => {
    let index = childIndex.get(parent);
    if (!index) childIndex.set(parent, (index = new Map<string, FlameNode>()));
    let node = index.get(name);
    if (!node) {
      node = { name, value: 0, children: [] };
      index.set(name, node);
      parent.children.push(node);
    }
    return node;
  };
  const labels = result.frames.map((_, i) => frameLabel(result, i));
  for (const thread of result.threads) {
    if (threadId !== "" && thread.threadId !== threadId) continue;
    const top = threadId === "" ? child(root, thread.name || thread.threadId) : root;
    for (const stack of thread.stacks) {
      const n = Number(stack.count);
      if (top !== root) top.value += n;
      root.value += n;
      let at = top;
      for (const frame of stack.frames) {
        at = child(at, labels[frame] ?? "?");
        at.value += n;
      }
    }
  }
  return root;
}
