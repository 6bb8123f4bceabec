import { useEffect, useRef, useState } from "react";
import type { ProfileResult } from "../../../../gen/stallwatch/v1/agent_pb";
import { layoutFlameSteps } from "../api/flame-layout";
import { flameTreeSteps } from "../api/flame-tree";
import { nextTask, runSliced } from "../api/sliced";
import type { FlameGraphHandle } from "./flame-graph-render";

/** The renderer's chunk (the canvas drawing), fetched once, when a flame graph is first shown. */
let rendererCode: Promise<typeof import("./flame-graph-render")> | undefined;
const loadRenderer = () => (rendererCode ??= import("./flame-graph-render"));

/**
 * The icicle of one profile (root on top): hover (or the arrow keys) says a
 * frame's samples, a click (or Enter) zooms to it, "Reset zoom" (or Escape) goes back, the search highlights every
 * frame whose name contains the text and says what share of the samples
 * they hold. The drawing code loads with the first flame graph shown.
 * One thread or all (`threadId` ""): callers key this component by it, so
 * zoom and search start afresh.
 */
export function FlameGraph({ result, threadId }: { result: ProfileResult; threadId: string }) {
  const host = useRef<HTMLDivElement>(null);
  const handle = useRef<FlameGraphHandle | undefined>(undefined);
  const [term, setTerm] = useState("");
  const [details, setDetails] = useState<string | null>(null);
  const [found, setFound] = useState<string | undefined>(undefined);
  const [zoomed, setZoomed] = useState<string | undefined>(undefined);
  const [failed, setFailed] = useState<string | undefined>(undefined);
  const [ready, setReady] = useState(false);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const abort = new AbortController();
    const { signal } = abort;
    // The code, the call tree, the layout, then the drawing, each in tasks of
    // its own, the tree and layout themselves in slices of ~10 ms (sliced.ts):
    // a 5,000-frame profile's graph in one task held the main thread for over
    // 100 ms on a loaded machine; split in three, the last (layout and drawing)
    // still took ~50 ms in a Chromium trace, and drawing alone 41-59 ms cold
    // until it was batched by colour (bench/profile-view.bench.ts).
    loadRenderer()
      .then(async ({ renderFlameGraph }) => {
        const tree = await runSliced(flameTreeSteps(result, threadId), { signal });
        const frames = await runSliced(layoutFlameSteps(tree), { signal });
        await nextTask();
        signal.throwIfAborted();
        handle.current = renderFlameGraph(el, frames, {
          width: Math.max(320, el.clientWidth || 960),
          onDetails: setDetails,
          onSearch: (matched, total) =>
            setFound(
              `${matched} of ${total} samples (${total === 0 ? 0 : ((100 * matched) / total).toFixed(1)}%) in matching frames`,
            ),
          onZoom: setZoomed,
        });
        setReady(true);
      })
      .catch((err: unknown) => {
        // Superseded (another thread, the view left): not a failure.
        if (!signal.aborted) setFailed((err as Error).message);
      });
    return () => {
      abort.abort();
      handle.current?.destroy();
      handle.current = undefined;
    };
  }, [result, threadId]);

  const search = (text: string) => {
    setTerm(text);
    handle.current?.search(text.trim());
    if (!text.trim()) setFound(undefined);
  };

  return (
    <div className="flame-graph">
      <div className="flame-tools">
        <label>
          Search frames{" "}
          <input
            type="search"
            value={term}
            maxLength={200}
            onChange={(e) => search(e.target.value)}
            placeholder="e.g. recv_into"
          />
        </label>
        <button
          type="button"
          disabled={zoomed === undefined}
          onClick={() => {
            handle.current?.resetZoom();
            setZoomed(undefined);
          }}
        >
          Reset zoom
        </button>
        <span className="sub" role="status" aria-live="polite">
          {found ??
            (zoomed
              ? `zoomed to ${zoomed}`
              : "click a frame to zoom to it (or focus the graph: arrows move, Home goes to the top, Enter zooms, Escape resets)")}
        </span>
      </div>
      {failed && (
        <p role="alert">
          The flame graph could not load: {failed}. Reload the page to try again; the table below
          has the same samples.
        </p>
      )}
      {/* An icicle: the root on top, callees below, a frame's width its share of the samples. */}
      <div ref={host} className="flame-host" data-ready={ready ? "true" : "false"} />
      {/* Live: the keyboard's moves are read out as the mouse's hover is shown. */}
      <p className="sub flame-details" aria-live="polite">
        {details ?? "Hover a frame for its samples."}
      </p>
    </div>
  );
}
