// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { layoutFlame } from "../api/flame-layout";
import type { FlameNode } from "../api/flame-tree";
import { renderFlameGraph } from "./flame-graph-render";

const n = (name: string, value: number, children: FlameNode[] = []): FlameNode => ({
  name,
  value,
  children,
});
/** all(10) → main(10) → [spin(6) → spin(2), read(3)] */
const tree = n("all", 10, [n("main", 10, [n("spin", 6, [n("spin", 2)]), n("read", 3)])]);

interface Rect {
  x: number;
  y: number;
  fill: string;
  alpha: number;
}

/**
 * jsdom cannot draw: a 2D context that records what was asked of it, the
 * fill and alpha in force at each rectangle, and how often the fill was set
 * (each set is a CSS colour the real canvas parses).
 */
function recordingContext() {
  const rects: Rect[] = [];
  const texts: string[] = [];
  const outlines: { x: number; y: number }[] = [];
  let fill = "";
  let fillSets = 0;
  const ctx = {
    globalAlpha: 1,
    font: "",
    textBaseline: "",
    get fillStyle() {
      return fill;
    },
    set fillStyle(value: string) {
      fill = value;
      fillSets += 1;
    },
    setTransform: () => undefined,
    strokeStyle: "",
    lineWidth: 1,
    clearRect: () => {
      rects.length = 0;
      texts.length = 0;
      outlines.length = 0;
      fillSets = 0;
    },
    strokeRect: (x: number, y: number) => outlines.push({ x, y }),
    fillRect(x: number, y: number) {
      rects.push({ x, y, fill, alpha: this.globalAlpha });
    },
    fillText: (text: string) => texts.push(text),
  };
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(
    ctx as unknown as CanvasRenderingContext2D,
  );
  return { rects, texts, outlines, fillSets: () => fillSets };
}

const options = {
  width: 1000,
  onDetails: () => undefined,
  onSearch: () => undefined,
  onZoom: () => undefined,
};

afterEach(() => vi.restoreAllMocks());

describe("renderFlameGraph", () => {
  it("draws every frame wide enough, a name always in the same colour, setting each colour once", () => {
    // all(10) → [main(5) → read(4), spin(5) → main(2)]: `main` twice, apart in drawing order.
    const apart = n("all", 10, [n("main", 5, [n("read", 4)]), n("spin", 5, [n("main", 2)])]);
    const drawn = recordingContext();
    renderFlameGraph(document.createElement("div"), layoutFlame(apart), options);
    // Depth by row (18 px), the root on top.
    const byPlace = [...drawn.rects].sort((a, b) => a.y - b.y || a.x - b.x);
    expect(byPlace.map((r) => [r.x, r.y])).toEqual([
      [0, 0],
      [0, 18],
      [500, 18],
      [0, 36],
      [500, 36],
    ]);
    expect(byPlace[1]?.fill).toBe(byPlace[4]?.fill);
    // One set per colour for the frames (not one per change of colour), one for the labels.
    const colours = new Set(drawn.rects.map((r) => r.fill));
    expect(drawn.fillSets()).toBe(colours.size + 1);
    expect(drawn.texts).toEqual(["all", "main", "read", "spin", "main"]);
  });

  it("draws the search's matches in their own colour, and a zoomed frame's ancestors faded", () => {
    const drawn = recordingContext();
    const host = document.createElement("div");
    const graph = renderFlameGraph(host, layoutFlame(tree), options);
    graph.search("SPIN");
    const at = (y: number, x = 0) => drawn.rects.find((r) => r.y === y && r.x === x);
    expect(at(36)?.fill).toBe("#e600e6");
    expect(at(54)?.fill).toBe("#e600e6");
    expect(at(36, 600)?.fill).not.toBe("#e600e6");
    // A click on `spin` (depth 2, left): `all` and `main` stay above it, faded.
    const canvas = host.querySelector("canvas");
    if (!canvas) throw new Error("no canvas");
    vi.spyOn(canvas, "getBoundingClientRect").mockReturnValue(new DOMRect(0, 0, 1000, 72));
    canvas.dispatchEvent(new MouseEvent("click", { clientX: 100, clientY: 40 }));
    expect(at(0)?.alpha).toBe(0.55);
    expect(at(18)?.alpha).toBe(0.55);
    expect(at(36)?.alpha).toBe(1);
    // Zoomed: spin fills the width, read is out of view.
    expect(drawn.rects).toHaveLength(4);
  });

  it("is usable from the keyboard: arrows move an outlined frame and say it, Enter zooms, Escape resets", () => {
    const drawn = recordingContext();
    const said: (string | null)[] = [];
    const zooms: (string | undefined)[] = [];
    const host = document.createElement("div");
    renderFlameGraph(host, layoutFlame(tree), {
      ...options,
      onDetails: (text) => said.push(text),
      onZoom: (name) => zooms.push(name),
    });
    const canvas = host.querySelector("canvas");
    if (!canvas) throw new Error("no canvas");
    expect(canvas.tabIndex).toBe(0);
    const press = (key: string) => {
      const event = new KeyboardEvent("keydown", { key, cancelable: true });
      canvas.dispatchEvent(event);
      return event.defaultPrevented;
    };
    canvas.dispatchEvent(new FocusEvent("focus"));
    expect(said.at(-1)).toBe("all: 10 samples, 100.0% of the view");
    expect(drawn.outlines).toEqual([{ x: 1, y: 1 }]);
    expect(press("ArrowDown")).toBe(true); // the page does not scroll
    press("ArrowDown");
    expect(said.at(-1)).toBe("spin: 6 samples, 60.0% of the view");
    press("ArrowRight");
    expect(said.at(-1)).toBe("read: 3 samples, 30.0% of the view");
    expect(drawn.outlines).toEqual([{ x: 601, y: 37 }]);
    press("Enter");
    expect(zooms).toEqual(["read"]);
    press("ArrowLeft"); // spin is outside the zoomed view: the outline stays on read
    expect(said.at(-1)).toBe("read: 3 samples, 30.0% of the view");
    press("ArrowUp");
    expect(said.at(-1)).toBe("main: 10 samples, 100.0% of the view");
    press("Escape");
    expect(zooms).toEqual(["read", undefined]);
    expect(said.at(-1)).toBe("main: 10 samples, 100.0% of the view"); // Escape keeps the cursor
    expect(press("Home")).toBe(true);
    expect(said.at(-1)).toBe("all: 10 samples, 100.0% of the view");
    expect(press("a")).toBe(false); // other keys are left to the page
    canvas.dispatchEvent(new FocusEvent("blur"));
    expect(said.at(-1)).toBeNull();
    expect(drawn.outlines).toEqual([]);
  });

  it("starts the keyboard from the root after Reset zoom, not at the frame a click zoomed to", () => {
    recordingContext();
    const said: (string | null)[] = [];
    const host = document.createElement("div");
    const handle = renderFlameGraph(host, layoutFlame(tree), {
      ...options,
      onDetails: (text) => said.push(text),
    });
    const canvas = host.querySelector("canvas");
    if (!canvas) throw new Error("no canvas");
    vi.spyOn(canvas, "getBoundingClientRect").mockReturnValue(new DOMRect(0, 0, 1000, 54));
    // A click on "read" (depth 2, the right part of main) zooms to it.
    canvas.dispatchEvent(new MouseEvent("click", { clientX: 800, clientY: 40 }));
    canvas.dispatchEvent(new FocusEvent("focus"));
    expect(said.at(-1)).toBe("read: 3 samples, 30.0% of the view");
    canvas.dispatchEvent(new FocusEvent("blur"));
    handle.resetZoom();
    canvas.dispatchEvent(new FocusEvent("focus"));
    expect(said.at(-1)).toBe("all: 10 samples, 100.0% of the view");
  });
});
