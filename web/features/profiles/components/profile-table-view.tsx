import { useVirtualizer, type Rect, type Virtualizer } from "@tanstack/react-virtual";
import { useMemo, useRef, useState } from "react";
import type { ProfileRow } from "../api/profile-table";

const ROW_HEIGHT = 28;
/** The scroller's height until it is observed: its CSS max-height (profiles.css). */
const SCROLLER_HEIGHT = 420;
/** Below this many rows, render them all. */
const VIRTUALIZE_FROM = 200;

type SortKey = "ownPct" | "totalPct" | "ownSeconds" | "totalSeconds" | "function";

const COLUMNS: { label: string; key: SortKey; numeric: boolean }[] = [
  { label: "%Own", key: "ownPct", numeric: true },
  { label: "%Total", key: "totalPct", numeric: true },
  { label: "OwnTime", key: "ownSeconds", numeric: true },
  { label: "TotalTime", key: "totalSeconds", numeric: true },
  { label: "Function (filename:line)", key: "function", numeric: false },
];

/** Sorted rows: numbers largest first, names A to Z; ties by own then total samples. */
export function sortRows(rows: ProfileRow[], key: SortKey): ProfileRow[] {
  const sorted = [...rows];
  sorted.sort((a, b) =>
    key === "function"
      ? a.function.localeCompare(b.function) || a.location.localeCompare(b.location)
      : b[key] - a[key] || b.ownSamples - a.ownSamples || b.totalSamples - a.totalSamples,
  );
  return sorted;
}

/**
 * The scroller's size from a ResizeObserver only. The virtualizer's own
 * observer also reads `clientHeight` at once, in the commit's layout effect,
 * which forces a layout of the whole page inside the commit: on the first
 * profile shown, 14-16 ms of a 45 ms task (bench/profile-view.bench.ts). A
 * ResizeObserver reports after the browser's own layout; until then the
 * initial rect (the CSS max-height) stands.
 */
function observeScrollerSize(
  instance: Virtualizer<HTMLDivElement, Element>,
  onRect: (rect: Rect) => void,
): (() => void) | undefined {
  const element = instance.scrollElement;
  if (!element || typeof ResizeObserver === "undefined") return undefined;
  const observer = new ResizeObserver(() =>
    onRect({ width: element.clientWidth, height: element.clientHeight }),
  );
  observer.observe(element);
  return () => observer.disconnect();
}

/**
 * py-spy's table ("%Own %Total OwnTime TotalTime Function (filename:line)"),
 * sortable by any column, virtualized: a profile of thousands of distinct
 * frames keeps only the rows in view in the DOM. `pending`: these rows are
 * the previous thread's while the chosen one's are folded (aria-busy).
 */
export function ProfileTableView({
  rows,
  pending = false,
}: {
  rows: ProfileRow[];
  pending?: boolean;
}) {
  const [sort, setSort] = useState<SortKey>("ownPct");
  const sorted = useMemo(() => sortRows(rows, sort), [rows, sort]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: sorted.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
    // No getItemKey: the virtualizer keys only its size cache by it, and rows
    // are never measured (fixed height). A key function made anew on each
    // render also made it lay out every row again on each render: 5,000
    // string keys, a quarter of a 68 ms commit (bench/profile-view.bench.ts).
    initialRect: { width: 1200, height: SCROLLER_HEIGHT },
    observeElementRect: observeScrollerSize,
  });
  const virtual = sorted.length >= VIRTUALIZE_FROM;
  const items = virtual
    ? virtualizer.getVirtualItems().map((v) => v.index)
    : sorted.map((_, index) => index);
  const first = virtual ? virtualizer.getVirtualItems()[0] : undefined;
  const last = virtual ? virtualizer.getVirtualItems().at(-1) : undefined;
  const before = first?.start ?? 0;
  const after = virtual ? virtualizer.getTotalSize() - (last?.end ?? 0) : 0;
  return (
    <div ref={scroller} className="profile-table-scroller" tabIndex={-1}>
      <table className="profile-table" aria-rowcount={sorted.length + 1} aria-busy={pending}>
        <thead>
          <tr>
            {COLUMNS.map((c) => (
              <th
                key={c.key}
                scope="col"
                className={c.numeric ? "num" : undefined}
                aria-sort={c.key === sort ? (c.numeric ? "descending" : "ascending") : undefined}
              >
                <button type="button" className="sort" onClick={() => setSort(c.key)}>
                  {c.label}
                  {c.key === sort ? <span aria-hidden="true"> ▾</span> : null}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {before > 0 && <tr aria-hidden="true" style={{ height: before }} />}
          {items.map((index) => {
            const r = sorted[index];
            if (!r) return null;
            return (
              <tr
                key={`${r.function}\0${r.location}`}
                aria-rowindex={index + 2}
                style={{ height: ROW_HEIGHT }}
              >
                <td className="num">{r.ownPct.toFixed(2)}%</td>
                <td className="num">{r.totalPct.toFixed(2)}%</td>
                <td className="num">{r.ownSeconds.toFixed(2)}s</td>
                <td className="num">{r.totalSeconds.toFixed(2)}s</td>
                <td className="frame-name" title={`${r.function} (${r.location})`}>
                  <code>{r.function.slice(0, 300)}</code>
                  {r.location && <span className="sub"> ({r.location.slice(0, 300)})</span>}
                </td>
              </tr>
            );
          })}
          {after > 0 && <tr aria-hidden="true" style={{ height: after }} />}
        </tbody>
      </table>
      {sorted.length === 0 && <p className="empty">No samples kept.</p>}
    </div>
  );
}
