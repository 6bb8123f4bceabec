/**
 * The flame graph's drawing, in its own chunk: d3-flame-graph and
 * d3-selection are imported only here, and this file only by a dynamic
 * import from flame-graph.tsx, so their code loads with a profile's view
 * and never with the fleet or the worker page.
 */
import flamegraph, { type FlameGraph } from "d3-flame-graph";
import { select } from "d3-selection";
import type { FlameNode } from "../api/flame-tree";

export interface FlameGraphHandle {
  search(term: string): void;
  resetZoom(): void;
  destroy(): void;
}

export interface FlameGraphOptions {
  width: number;
  /** What a hovered frame or a search says, in words; null when nothing is hovered. */
  onDetails: (text: string | null) => void;
  onSearch: (matchedSamples: number, totalSamples: number) => void;
  onZoom: (name: string) => void;
}

const pct = (part: number, whole: number) =>
  whole === 0 ? "0%" : `${((100 * part) / whole).toFixed(1)}%`;

/**
 * Draws `tree` as an icicle (root on top) into `host`. Frames narrower than
 * 1.5 px are not drawn (d3-flame-graph's minFrameSize), which bounds the DOM
 * by the width rather than by the frame count; a click zooms to a frame, and
 * the search matches plain text (not a regular expression: a name such as
 * `get(int)` must not be a syntax error), case-insensitively.
 */
export function renderFlameGraph(
  host: HTMLElement,
  tree: FlameNode,
  opts: FlameGraphOptions,
): FlameGraphHandle {
  const total = tree.value;
  const chart: FlameGraph = flamegraph()
    .width(opts.width)
    .cellHeight(18)
    .minFrameSize(1.5)
    .transitionDuration(0)
    .inverted(true)
    .sort(false)
    .selfValue(false)
    .setColorHue("warm")
    .setLabelHandler(
      (d) => `${d.data.name}: ${d.value} samples, ${pct(d.value, total)} of the view's samples`,
    )
    .setSearchMatch(
      (d, term) => term !== "" && d.data.name.toLowerCase().includes(term.toLowerCase()),
    )
    .setSearchHandler((_results, sum) => opts.onSearch(sum, total))
    .setDetailsHandler((text) => opts.onDetails(text))
    .onClick((d) => opts.onZoom(d.data.name));
  select(host).datum(tree).call(chart);
  return {
    search: (term) => (term ? chart.search(term) : chart.clear()),
    resetZoom: () => chart.resetZoom(),
    destroy: () => {
      chart.destroy();
      host.replaceChildren();
    },
  };
}
