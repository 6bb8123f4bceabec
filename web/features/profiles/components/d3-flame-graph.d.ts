// The parts of d3-flame-graph 5 (which ships no types) that flame-graph-render.ts calls.
declare module "d3-flame-graph" {
  import type { Selection } from "d3-selection";

  export interface FlameGraphNode {
    data: { name: string; value: number };
    value: number;
    x0: number;
    x1: number;
    depth: number;
  }

  export interface FlameGraph {
    // The datum is the caller's tree ({name, value, children}); its type is the caller's.
    <Datum>(selection: Selection<HTMLElement, Datum, null, undefined>): void;
    width(px: number): FlameGraph;
    cellHeight(px: number): FlameGraph;
    minFrameSize(px: number): FlameGraph;
    transitionDuration(ms: number): FlameGraph;
    inverted(on: boolean): FlameGraph;
    sort(on: boolean): FlameGraph;
    selfValue(on: boolean): FlameGraph;
    setLabelHandler(label: (d: FlameGraphNode) => string): FlameGraph;
    setSearchMatch(match: (d: FlameGraphNode, term: string) => boolean): FlameGraph;
    setSearchHandler(
      handler: (results: FlameGraphNode[], sum: number, total: number) => void,
    ): FlameGraph;
    setDetailsHandler(handler: (text: string | null) => void): FlameGraph;
    setColorHue(hue: string): FlameGraph;
    onClick(handler: (d: FlameGraphNode) => void): FlameGraph;
    search(term: string): void;
    clear(): void;
    resetZoom(): void;
    destroy(): void;
  }

  export default function flamegraph(): FlameGraph;
}
