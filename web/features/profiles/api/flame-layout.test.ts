import { describe, expect, it } from "vitest";
import { countPauses, wideProfile } from "../testing/wide-profile";
import {
  frameAt,
  layoutFlame,
  layoutFlameSteps,
  searchFlame,
  stepFrom,
  type LaidFrame,
} from "./flame-layout";
import { flameTree, type FlameNode } from "./flame-tree";
import { runSliced } from "./sliced";

const n = (name: string, value: number, children: FlameNode[] = []): FlameNode => ({
  name,
  value,
  children,
});
/** all(10) → main(10) → [spin(6) → spin(2), read(3)] */
const tree = n("all", 10, [n("main", 10, [n("spin", 6, [n("spin", 2)]), n("read", 3)])]);

describe("layoutFlame", () => {
  it("lays children side by side under their parent, in order, as wide as their samples", () => {
    expect(layoutFlame(tree).map((f) => [f.name, f.depth, f.x0, f.x1, f.parent])).toEqual([
      ["all", 0, 0, 10, -1],
      ["main", 1, 0, 10, 0],
      ["spin", 2, 0, 6, 1],
      ["spin", 3, 0, 2, 2],
      ["read", 2, 6, 9, 1],
    ]);
  });
});

/** The icicle laid out recursively, pre-order: what the steps must agree with. */
function plainLayout(node: FlameNode, depth = 0, x0 = 0, parent = -1, out: LaidFrame[] = []) {
  const index = out.length;
  out.push({ name: node.name, value: node.value, depth, x0, x1: x0 + node.value, parent });
  let x = x0;
  for (const c of node.children) {
    plainLayout(c, depth + 1, x, index, out);
    x += c.value;
  }
  return out;
}

describe("layoutFlameSteps", () => {
  const wide = flameTree(wideProfile());

  it("lays out a wide tree in many short steps, the same as recursively", async () => {
    const { value, pauses } = countPauses(layoutFlameSteps(wide));
    expect(value).toEqual(plainLayout(wide));
    // A pause before every 1,024th frame of the ~21,000-node tree (paths of up to 30 frames).
    expect(value.length).toBeGreaterThan(20_000);
    expect(pauses).toBe(Math.floor(value.length / 1024));
    expect(await runSliced(layoutFlameSteps(wide), { budgetMs: 0 })).toEqual(value);
  });
});

describe("searchFlame", () => {
  it("counts a match inside a match once, case-insensitively", () => {
    const frames = layoutFlame(tree);
    const { matched, samples } = searchFlame(frames, "SPIN");
    expect([...matched]).toEqual([2, 3]);
    expect(samples).toBe(6);
    expect(searchFlame(frames, "").samples).toBe(0);
    expect(searchFlame(frames, "(").matched.size).toBe(0);
  });
});

describe("frameAt", () => {
  it("finds the frame under a point, or -1 in the gap main leaves", () => {
    const frames = layoutFlame(tree);
    expect(frames[frameAt(frames, 7, 2)]?.name).toBe("read");
    expect(frameAt(frames, 9.5, 2)).toBe(-1);
  });
});

describe("stepFrom (the keyboard's moves)", () => {
  // all(10) → main(10) → [spin(6) → spin(2), read(3)], and a second root child.
  const frames = layoutFlame(
    n("all", 12, [n("main", 10, [n("spin", 6, [n("spin", 2)]), n("read", 3)]), n("gc", 2)]),
  );
  const at = (name: string, depth: number) =>
    frames.findIndex((f) => f.name === name && f.depth === depth);
  const name = (i: number) => `${frames[i]?.name ?? "?"}@${frames[i]?.depth ?? -1}`;

  it("goes down to the widest callee, up to the caller, and along the callers' callees", () => {
    expect(name(stepFrom(frames, 0, "child"))).toBe("main@1");
    expect(name(stepFrom(frames, at("main", 1), "child"))).toBe("spin@2");
    expect(name(stepFrom(frames, at("spin", 2), "next"))).toBe("read@2");
    expect(name(stepFrom(frames, at("read", 2), "previous"))).toBe("spin@2");
    expect(name(stepFrom(frames, at("read", 2), "parent"))).toBe("main@1");
    expect(name(stepFrom(frames, at("main", 1), "next"))).toBe("gc@1");
    expect(name(stepFrom(frames, at("gc", 1), "previous"))).toBe("main@1");
  });

  it("stays put where there is nothing that way", () => {
    expect(stepFrom(frames, 0, "parent")).toBe(0);
    expect(stepFrom(frames, 0, "next")).toBe(0);
    expect(stepFrom(frames, at("spin", 3), "child")).toBe(at("spin", 3));
    expect(stepFrom(frames, at("read", 2), "next")).toBe(at("read", 2)); // not gc: another caller's
    expect(stepFrom(frames, at("spin", 2), "previous")).toBe(at("spin", 2));
    expect(stepFrom(frames, 99, "child")).toBe(99);
  });
});
