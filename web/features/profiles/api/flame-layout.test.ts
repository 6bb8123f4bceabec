import { describe, expect, it } from "vitest";
import { frameAt, layoutFlame, searchFlame } from "./flame-layout";
import type { FlameNode } from "./flame-tree";

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
