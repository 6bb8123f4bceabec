import { useVirtualizer } from "@tanstack/react-virtual";
import { useRef } from "react";
import { Link } from "react-router";
import type { Worker } from "../../../../gen/stallwatch/v1/fleet_pb";
import { ago, clip, formatBytes, formatMs } from "../../../shared/format";
import { KIND_LABEL } from "../../../shared/liveness";
import { Sparkline } from "../../../shared/sparkline";
import type { SortKey } from "../api/fleet-view";
import { LivenessBadge } from "../../../shared/liveness-badge";

const ROW_HEIGHT = 44;
/** Below this many rows, render them all: no layout needed, nothing to gain. */
const VIRTUALIZE_FROM = 200;

export interface FleetTableProps {
  workers: Worker[];
  nowMs: number;
  sort: SortKey;
  onSort: (key: SortKey) => void;
  /** Where rows link to (a snapshot links inside itself). */
  linkBase?: string;
}

const COLUMNS: { label: string; sort?: SortKey }[] = [
  { label: "Worker", sort: "id" },
  { label: "Kind" },
  { label: "Liveness", sort: "severity" },
  { label: "Last heartbeat", sort: "heartbeat" },
  { label: "Latency last / p50 / p99", sort: "latency" },
  { label: "Sessions", sort: "sessions" },
  { label: "RSS" },
];

/**
 * The workers, one row each, virtualized: only the rows in view are in the
 * DOM, so 10,000 workers scroll as smoothly as ten. Rows have a fixed height
 * and a stable key (the worker id).
 */
export function FleetTable({
  workers,
  nowMs,
  sort,
  onSort,
  linkBase = "/workers/",
}: FleetTableProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: workers.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
    getItemKey: (i) => workers[i]?.id ?? i,
    // jsdom and the first paint have no layout yet: assume a screenful.
    initialRect: { width: 1200, height: 800 },
  });
  const virtual = workers.length >= VIRTUALIZE_FROM;
  const items = virtual
    ? virtualizer.getVirtualItems().map((v) => ({ index: v.index, key: String(v.key) }))
    : workers.map((w, index) => ({ index, key: w.id }));
  const first = virtual ? virtualizer.getVirtualItems()[0] : undefined;
  const last = virtual ? virtualizer.getVirtualItems().at(-1) : undefined;
  const before = first?.start ?? 0;
  const after = virtual ? virtualizer.getTotalSize() - (last?.end ?? 0) : 0;

  return (
    <div ref={scroller} className="table-scroller" tabIndex={-1}>
      <table className="fleet-table" aria-rowcount={workers.length + 1}>
        <thead>
          <tr>
            {COLUMNS.map((c) => (
              <th
                key={c.label}
                scope="col"
                aria-sort={
                  c.sort === sort ? (sort === "id" ? "ascending" : "descending") : undefined
                }
              >
                {c.sort ? (
                  <button
                    type="button"
                    className="sort"
                    onClick={() => onSort(c.sort ?? "severity")}
                  >
                    {c.label}
                    {c.sort === sort ? <span aria-hidden="true"> ▾</span> : null}
                  </button>
                ) : (
                  c.label
                )}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {before > 0 && <tr aria-hidden="true" style={{ height: before }} />}
          {items.map((item) => {
            const w = workers[item.index];
            if (!w) return null;
            return (
              <FleetRow
                key={item.key}
                worker={w}
                nowMs={nowMs}
                rowIndex={item.index + 2}
                linkBase={linkBase}
              />
            );
          })}
          {after > 0 && <tr aria-hidden="true" style={{ height: after }} />}
        </tbody>
      </table>
      {workers.length === 0 && <p className="empty">No workers match.</p>}
    </div>
  );
}

function FleetRow({
  worker: w,
  nowMs,
  rowIndex,
  linkBase,
}: {
  worker: Worker;
  nowMs: number;
  rowIndex: number;
  linkBase: string;
}) {
  const rss = Number(w.metrics.rss_bytes);
  return (
    <tr data-worker-id={w.id} aria-rowindex={rowIndex} style={{ height: ROW_HEIGHT }}>
      <td>
        <Link to={`${linkBase}${encodeURIComponent(w.id)}`} title={w.id}>
          {clip(w.id, 60)}
        </Link>
        {w.address !== w.id && <div className="sub">{clip(w.address, 60)}</div>}
      </td>
      <td>{KIND_LABEL[w.kind]}</td>
      <td title={w.livenessReason}>
        <LivenessBadge liveness={w.liveness} />{" "}
        <span className="sub">for {ago(w.livenessSinceMs, nowMs).replace(/ ago$/, "")}</span>
        <div className="sub reason">{clip(w.livenessReason, 80)}</div>
      </td>
      <td>{ago(w.lastHeartbeatAtMs, nowMs)}</td>
      <td className="num latency-cell">
        <Sparkline
          values={w.recentRttTenthsMs.map((t) => t / 10)}
          label={`recent round trips of ${w.id}`}
        />{" "}
        {formatMs(w.latency?.lastMs ?? 0)} / {formatMs(w.latency?.p50Ms ?? 0)} /{" "}
        {formatMs(w.latency?.p99Ms ?? 0)}
      </td>
      <td className="num">
        {w.activeSessions}
        {w.stalledSessions > 0 && (
          <span className="stalled-count"> ({w.stalledSessions} stalled)</span>
        )}
      </td>
      <td className="num">{rss ? formatBytes(rss) : "—"}</td>
    </tr>
  );
}
