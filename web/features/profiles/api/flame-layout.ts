import type { FlameNode } from "./flame-tree";
import { runNow, type Steps } from "./sliced";

/** One frame of the icicle, laid out: x in samples from the left edge, depth from the root. */
export interface LaidFrame {
  name: string;
  value: number;
  depth: number;
  x0: number;
  x1: number;
  /** Index of the parent in the layout; -1 for the root. */
  parent: number;
}

/**
 * The icicle's geometry: every node of the tree in pre-order (root first,
 * so a node's ancestors come before it), children side by side under their
 * parent in the tree's order, each as wide as its samples. Iterative: a
 * 256-deep stack cannot overflow anything.
 */
export function layoutFlame(root: FlameNode): LaidFrame[] {
  return runNow(layoutFlameSteps(root));
}

/** Frames laid out between two pauses. */
const FRAMES_PER_STEP = 1024;

/** `layoutFlame` as steps, for `runSliced`: it pauses every 1,024 frames (see sliced.ts). */
export function* layoutFlameSteps(root: FlameNode): Steps<LaidFrame[]> {
  const out: LaidFrame[] = [];
  const stack: { node: FlameNode; depth: number; x0: number; parent: number }[] = [
    { node: root, depth: 0, x0: 0, parent: -1 },
  ];
  while (stack.length > 0) {
    const at = stack.pop();
    if (!at) break;
    const index = out.length;
    if (index % FRAMES_PER_STEP === FRAMES_PER_STEP - 1) yield;
    out.push({
      name: at.node.name,
      value: at.node.value,
      depth: at.depth,
      x0: at.x0,
      x1: at.x0 + at.node.value,
      parent: at.parent,
    });
    // Pushed in reverse so they come out (and are laid out) in order.
    let x = at.x0 + at.node.children.reduce((s, c) => s + c.value, 0);
    for (let i = at.node.children.length - 1; i >= 0; i--) {
      const child = at.node.children[i];
      if (!child) continue;
      x -= child.value;
      stack.push({ node: child, depth: at.depth + 1, x0: x, parent: index });
    }
  }
  return out;
}

/**
 * Which frames match a search (name contains `term`, case-insensitive) and
 * how many samples they hold, each sample counted once: a match inside a
 * match adds nothing (its samples are already in its ancestor's).
 */
export function searchFlame(
  frames: readonly LaidFrame[],
  term: string,
): { matched: Set<number>; samples: number } {
  const matched = new Set<number>();
  let samples = 0;
  const needle = term.toLowerCase();
  if (needle === "") return { matched, samples };
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    if (!f || !f.name.toLowerCase().includes(needle)) continue;
    matched.add(i);
    let inside = false;
    for (let p = f.parent; p >= 0 && !inside; p = frames[p]?.parent ?? -1) inside = matched.has(p);
    if (!inside) samples += f.value;
  }
  return { matched, samples };
}

/** The frame at sample position `x` and `depth`, or -1; `frames` in layout order. */
export function frameAt(frames: readonly LaidFrame[], x: number, depth: number): number {
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    if (f && f.depth === depth && x >= f.x0 && x < f.x1) return i;
  }
  return -1;
}

/** A keyboard move in the icicle: up to the caller, down to a callee, along the callers' callees. */
export type FlameStep = "parent" | "child" | "previous" | "next";

/**
 * The frame one keyboard step from `from` (frames in layout order: pre-order,
 * so a frame's subtree follows it and ends at the next frame no deeper than
 * it), or `from` itself when there is none that way. "child" goes to the
 * widest callee, where most of the samples are; "previous"/"next" to the
 * sibling drawn left/right of it.
 */
export function stepFrom(frames: readonly LaidFrame[], from: number, step: FlameStep): number {
  const f = frames[from];
  if (!f) return from;
  if (step === "parent") return f.parent >= 0 ? f.parent : from;
  if (step === "child") {
    let best = from;
    let bestValue = -1;
    for (let i = from + 1; i < frames.length; i++) {
      const c = frames[i];
      if (!c || c.depth <= f.depth) break;
      if (c.depth === f.depth + 1 && c.value > bestValue) {
        best = i;
        bestValue = c.value;
      }
    }
    return best;
  }
  if (step === "next") {
    for (let i = from + 1; i < frames.length; i++) {
      const s = frames[i];
      if (!s || s.depth < f.depth) break;
      if (s.depth === f.depth) return s.parent === f.parent ? i : from;
    }
    return from;
  }
  for (let i = from - 1; i > f.parent; i--) {
    const s = frames[i];
    if (s && s.depth === f.depth) return i;
  }
  return from;
}
