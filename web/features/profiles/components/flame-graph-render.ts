/**
 * The flame graph's drawing, in its own chunk (imported only by
 * flame-graph.tsx, dynamically): an icicle on one canvas. Why not a library
 * is in the README ("Profiles"): d3-flame-graph, the kept one that fits,
 * builds five DOM nodes per frame and took 155 ms of main thread for a
 * 5,000-frame profile (bench/profile-view.bench.ts); a canvas draws the same
 * frames in a few milliseconds.
 */
import {
  frameAt,
  searchFlame,
  stepFrom,
  type FlameStep,
  type LaidFrame,
} from "../api/flame-layout";

export interface FlameGraphHandle {
  search(term: string): void;
  resetZoom(): void;
  destroy(): void;
}

export interface FlameGraphOptions {
  width: number;
  /** What a hovered frame says, in words; null when nothing is hovered. */
  onDetails: (text: string | null) => void;
  onSearch: (matchedSamples: number, totalSamples: number) => void;
  /** The frame zoomed to, or undefined when the zoom was reset (Escape). */
  onZoom: (name: string | undefined) => void;
}

/**
 * The keyboard: arrows move between frames (stepFrom), Home goes back to the
 * top of the view, Enter or Space zooms, Escape resets (the cursor stays).
 */
const STEPS: Partial<Record<string, FlameStep>> = {
  ArrowUp: "parent",
  ArrowDown: "child",
  ArrowLeft: "previous",
  ArrowRight: "next",
};

const ROW = 18;
/** Frames narrower than this many pixels are not drawn (they would be a smear). */
const MIN_PX = 0.5;
/** Labels need this much room; an average character of the 11 px font is ~6.5 px. */
const LABEL_MIN_PX = 36;
const CHAR_PX = 6.5;

const pct = (part: number, whole: number) =>
  whole === 0 ? "0%" : `${((100 * part) / whole).toFixed(1)}%`;

/**
 * The warm palette (flamegraph.pl's idea): a fixed set of colours, so the
 * drawing sets `fillStyle` (a CSS colour the canvas parses) once per colour
 * rather than once per frame, 2,500 times on a 5,000-frame profile.
 */
const PALETTE = Array.from(
  { length: 48 },
  (_, k) => `hsl(${10 + ((k * 7) % 45)}, ${70 + ((k * 3) % 20)}%, ${58 + ((k * 5) % 12)}%)`,
);
const MATCHED = "#e600e6";

/** A name's colour in the palette: the same function, the same colour. */
function colorOf(name: string): number {
  let h = 0;
  for (let i = 0; i < Math.min(name.length, 24); i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return h % PALETTE.length;
}

function label(name: string, px: number): string {
  const fits = Math.floor((px - 6) / CHAR_PX);
  return name.length <= fits ? name : `${name.slice(0, Math.max(0, fits - 1))}…`;
}

/**
 * Draws laid-out `frames` (flame-layout.ts, root first) as an icicle (root
 * on top) into `host`. A click zooms to a
 * frame (its ancestors stay above it, faded), hovering says a frame's
 * samples, the search highlights frames whose name contains the text
 * (plain text, case-insensitive) and says the share of samples under them.
 * The canvas takes focus: the arrows move an outlined frame (saying its
 * samples as hovering does), Home goes to the top of the view, Enter or
 * Space zooms to it, Escape resets.
 */
export function renderFlameGraph(
  host: HTMLElement,
  frames: readonly LaidFrame[],
  opts: FlameGraphOptions,
): FlameGraphHandle {
  // A frame's colour, worked out when it is first drawn and kept (-1: not
  // yet): about half of a 5,000-frame profile's frames are too narrow to
  // draw, and hashing them all up front was a fifth of the drawing task.
  const colors = new Int16Array(frames.length).fill(-1);
  const colorAt = (i: number, name: string) => {
    const known = colors[i] ?? -1;
    if (known >= 0) return known;
    const c = colorOf(name);
    colors[i] = c;
    return c;
  };
  const total = frames[0]?.value ?? 0;
  const depth = frames.reduce((d, f) => Math.max(d, f.depth), 0) + 1;
  const canvas = document.createElement("canvas");
  const ratio = window.devicePixelRatio || 1;
  const width = opts.width;
  const height = depth * ROW;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  canvas.dataset.rows = String(depth);
  canvas.setAttribute("role", "img");
  canvas.setAttribute(
    "aria-label",
    `Flame graph of ${total} samples, ${frames.length} frames: arrow keys move between frames, ` +
      "Home goes to the top, Enter zooms to one, Escape resets; py-spy's table below has the same numbers",
  );
  canvas.tabIndex = 0;
  host.replaceChildren(canvas);
  const ctx = canvas.getContext("2d");
  let zoom = 0;
  let matched = new Set<number>();
  /** The keyboard's frame, outlined while the canvas has focus. */
  let cursor = 0;
  let focused = false;

  const view = () => frames[zoom] ?? frames[0];
  const draw = () => {
    const v = view();
    if (!ctx || !v) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    const scale = width / Math.max(1, v.x1 - v.x0);
    let drawn = 0;
    // Rectangles gathered by fill (a palette colour, or the search's match),
    // faded or not (the zoomed frame's ancestors), then drawn a batch at a
    // time: canvas state changes parse and cost, so each is set once per
    // batch instead of per frame (a cold draw took 40-60 ms in one task).
    const fills = PALETTE.length + 1;
    const batches: number[][] = Array.from({ length: 2 * fills }, () => []);
    const labels: { text: string; x: number; y: number }[] = [];
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i];
      if (!f || f.x1 <= v.x0 || f.x0 >= v.x1) continue;
      const px0 = Math.max(0, (f.x0 - v.x0) * scale);
      const px1 = Math.min(width, (f.x1 - v.x0) * scale);
      if (px1 - px0 < MIN_PX) continue;
      const y = f.depth * ROW;
      const fill = matched.has(i) ? PALETTE.length : colorAt(i, f.name);
      batches[(f.depth < v.depth ? fills : 0) + fill]?.push(
        px0,
        y,
        Math.max(MIN_PX, px1 - px0 - 0.5),
      );
      if (px1 - px0 >= LABEL_MIN_PX)
        labels.push({ text: label(f.name, px1 - px0), x: px0 + 3, y: y + ROW / 2 });
      drawn += 1;
    }
    batches.forEach((rects, b) => {
      if (rects.length === 0) return;
      ctx.globalAlpha = b >= fills ? 0.55 : 1;
      const fill = b % fills;
      ctx.fillStyle = fill === PALETTE.length ? MATCHED : (PALETTE[fill] ?? MATCHED);
      for (let r = 0; r < rects.length; r += 3)
        ctx.fillRect(rects[r] ?? 0, rects[r + 1] ?? 0, rects[r + 2] ?? 0, ROW - 1);
    });
    // Labels last, in one colour.
    ctx.globalAlpha = 1;
    ctx.fillStyle = "#1b1f24";
    for (const l of labels) ctx.fillText(l.text, l.x, l.y);
    const c = frames[cursor];
    if (focused && c) {
      // At least 4 px wide, so a frame too narrow to draw still shows where the keyboard is.
      const px0 = Math.max(0, (c.x0 - v.x0) * scale);
      const px1 = Math.min(width, Math.max(px0 + 4, (c.x1 - v.x0) * scale));
      ctx.strokeStyle = "#1b1f24";
      ctx.lineWidth = 2;
      ctx.strokeRect(px0 + 1, c.depth * ROW + 1, px1 - px0 - 2, ROW - 3);
    }
    canvas.dataset.drawn = String(drawn);
  };

  /** What a frame says when hovered or reached by the keyboard. */
  const describe = (i: number) => {
    const f = frames[i];
    return f ? `${f.name}: ${f.value} samples, ${pct(f.value, total)} of the view` : null;
  };
  /** Shown in the current view: inside the zoomed frame, or one of its ancestors above it. */
  const visible = (i: number) => {
    const f = frames[i];
    const v = view();
    return !!f && !!v && f.x1 > v.x0 && f.x0 < v.x1 && (f.depth >= v.depth || f.x0 <= v.x0);
  };
  const zoomTo = (i: number) => {
    const f = frames[i];
    if (!f) return;
    zoom = i;
    cursor = i;
    draw();
    opts.onZoom(f.name);
  };

  /** The frame under a mouse event, or -1. */
  const hit = (e: MouseEvent) => {
    const v = view();
    if (!v) return -1;
    const rect = canvas.getBoundingClientRect();
    const x = v.x0 + ((e.clientX - rect.left) / width) * (v.x1 - v.x0);
    const i = frameAt(frames, x, Math.floor((e.clientY - rect.top) / ROW));
    // Above the zoomed frame only its ancestors are shown.
    const f = frames[i];
    return f && (f.depth >= v.depth || f.x0 <= v.x0) ? i : -1;
  };
  canvas.addEventListener("click", (e) => zoomTo(hit(e)));
  canvas.addEventListener("mousemove", (e) => opts.onDetails(describe(hit(e))));
  canvas.addEventListener("mouseleave", () => opts.onDetails(focused ? describe(cursor) : null));
  canvas.addEventListener("keydown", (e) => {
    const step = STEPS[e.key];
    if (step) {
      e.preventDefault(); // the arrows would scroll the page
      const next = stepFrom(frames, cursor, step);
      if (next !== cursor && visible(next)) {
        cursor = next;
        draw();
      }
      opts.onDetails(describe(cursor));
    } else if (e.key === "Home") {
      e.preventDefault();
      cursor = zoom;
      draw();
      opts.onDetails(describe(cursor));
    } else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      zoomTo(cursor);
    } else if (e.key === "Escape" && zoom !== 0) {
      e.preventDefault();
      zoom = 0;
      draw();
      opts.onZoom(undefined);
    }
  });
  canvas.addEventListener("focus", () => {
    focused = true;
    if (!visible(cursor)) cursor = zoom;
    draw();
    opts.onDetails(describe(cursor));
  });
  canvas.addEventListener("blur", () => {
    focused = false;
    draw();
    opts.onDetails(null);
  });
  draw();
  return {
    search: (term) => {
      const found = searchFlame(frames, term);
      matched = found.matched;
      draw();
      opts.onSearch(found.samples, total);
    },
    resetZoom: () => {
      // The whole graph again, and the keyboard starts from its root: the
      // frame a click zoomed to would otherwise stay the cursor, and the
      // next focus would begin deep inside the graph.
      zoom = 0;
      cursor = 0;
      draw();
    },
    destroy: () => host.replaceChildren(),
  };
}
