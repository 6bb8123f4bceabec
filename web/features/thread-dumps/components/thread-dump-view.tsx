import { useWindowVirtualizer } from "@tanstack/react-virtual";
import { memo, useCallback, useLayoutEffect, useMemo, useRef, useState } from "react";
import type { ThreadDumpView as Dump } from "../../../../gen/stallwatch/v1/fleet_pb";
import { clip, formatClock, formatDuration } from "../../../shared/format";
import { dumpAsText, groupThreads, type ThreadGroup } from "../api/group-threads";

const FRAMES_SHOWN = 40;
/** From this many groups on, only those near the viewport are in the DOM. */
const VIRTUALIZE_FROM = 80;
const GROUP_HEIGHT = 34;

export interface ThreadDumpViewProps {
  current: Dump;
  previous?: Dump | undefined;
  nowMs: number;
  filter: string;
  onFilter: (text: string) => void;
  showRaw: boolean;
  onShowRaw: (raw: boolean) => void;
  /** Highlight this session's thread. */
  sessionId?: string | undefined;
}

/** A thread dump, grouped and searchable; presentational. */
export function ThreadDumpView({
  current,
  previous,
  nowMs,
  filter,
  onFilter,
  showRaw,
  onShowRaw,
  sessionId,
}: ThreadDumpViewProps) {
  const grouped = useMemo(
    () => groupThreads(current, previous, filter),
    [current, previous, filter],
  );
  const [open, setOpen] = useState<Set<string>>(() => new Set());
  const [allOpen, setAllOpen] = useState(false);
  const [copied, setCopied] = useState(false);
  const text = () => (showRaw && current.rawText ? current.rawText : dumpAsText(current));
  const toggle = useCallback(
    (key: string) =>
      setOpen((s) => {
        const next = new Set(s);
        if (next.has(key)) next.delete(key);
        else next.add(key);
        return next;
      }),
    [],
  );

  return (
    <div className="thread-dump">
      <div className="dump-toolbar">
        <label>
          <span className="visually-hidden">Search threads</span>
          <input
            type="search"
            placeholder="Search thread name or frame"
            value={filter}
            onChange={(e) => onFilter(e.target.value)}
          />
        </label>
        <button type="button" onClick={() => setAllOpen((v) => !v)} aria-pressed={allOpen}>
          {allOpen ? "Collapse all" : "Expand all"}
        </button>
        <button
          type="button"
          onClick={() => {
            void navigator.clipboard.writeText(text()).then(() => setCopied(true));
          }}
        >
          {copied ? "Copied" : "Copy"}
        </button>
        <button
          type="button"
          onClick={() => {
            const url = URL.createObjectURL(new Blob([text()], { type: "text/plain" }));
            const a = document.createElement("a");
            a.href = url;
            a.download = `threads-${current.workerId}-${String(current.takenAtMs)}.txt`;
            a.click();
            URL.revokeObjectURL(url);
          }}
        >
          Download
        </button>
        {current.rawText && (
          <button type="button" aria-pressed={showRaw} onClick={() => onShowRaw(!showRaw)}>
            {showRaw ? "Parsed view" : "Raw text"}
          </button>
        )}
        <span className="sub">
          taken {formatClock(current.takenAtMs)} ({current.source}, {String(current.costMicros)}{" "}
          µs), {grouped.total} threads in {grouped.groups.length} groups
          {previous ? `; diff against ${formatClock(previous.takenAtMs)}` : ""}
          {current.truncated ? "; cut at the size cap" : ""}
        </span>
      </div>
      {showRaw && current.rawText ? (
        <pre className="stack raw">{current.rawText}</pre>
      ) : (
        <ThreadGroups
          groups={grouped.groups}
          open={open}
          allOpen={allOpen}
          onToggle={toggle}
          nowMs={nowMs}
          sessionId={sessionId}
        />
      )}
      {grouped.gone.length > 0 && (
        <p className="sub">Gone since the previous dump: {grouped.gone.slice(0, 20).join(", ")}</p>
      )}
    </div>
  );
}

/**
 * The groups, virtualized against the window's scroll when there are many
 * (a dump where every thread has its own stack is thousands of groups):
 * rows are measured as they render, since an expanded group is taller.
 */
function ThreadGroups({
  groups,
  open,
  allOpen,
  onToggle,
  nowMs,
  sessionId,
}: {
  groups: ThreadGroup[];
  open: ReadonlySet<string>;
  allOpen: boolean;
  onToggle: (key: string) => void;
  nowMs: number;
  sessionId: string | undefined;
}) {
  const list = useRef<HTMLUListElement>(null);
  const virtual = groups.length >= VIRTUALIZE_FROM;
  // Where the list starts on the page: the window's scroll is offset by it.
  const [offsetTop, setOffsetTop] = useState(0);
  useLayoutEffect(() => {
    const top = list.current ? list.current.getBoundingClientRect().top + window.scrollY : 0;
    setOffsetTop((t) => (Math.abs(t - top) > 1 ? top : t));
  }, [virtual]);
  const virtualizer = useWindowVirtualizer({
    count: virtual ? groups.length : 0,
    estimateSize: () => GROUP_HEIGHT,
    overscan: 12,
    scrollMargin: offsetTop,
    getItemKey: (i) => groups[i]?.key ?? i,
    // Without layout (jsdom) every element measures 0: keep the estimate then.
    measureElement: (el) => el.getBoundingClientRect().height || GROUP_HEIGHT,
    initialRect: { width: 1200, height: 900 },
  });
  const items = virtual
    ? virtualizer.getVirtualItems().map((v) => v.index)
    : groups.map((_, i) => i);
  const virtualItems = virtual ? virtualizer.getVirtualItems() : [];
  const margin = offsetTop;
  const before = virtual ? Math.max(0, (virtualItems[0]?.start ?? margin) - margin) : 0;
  const after = virtual
    ? Math.max(0, virtualizer.getTotalSize() - ((virtualItems.at(-1)?.end ?? margin) - margin))
    : 0;
  return (
    <ul className="thread-groups" ref={list} aria-setsize={groups.length}>
      {before > 0 && <li aria-hidden="true" className="spacer" style={{ height: before }} />}
      {items.map((index) => {
        const g = groups[index];
        if (!g) return null;
        return (
          <GroupItem
            key={g.key}
            index={index}
            group={g}
            expanded={allOpen || open.has(g.key)}
            onToggle={onToggle}
            nowMs={nowMs}
            selected={
              sessionId !== undefined && g.threads.some((t) => t.thread?.sessionId === sessionId)
            }
            measure={virtual ? virtualizer.measureElement : undefined}
          />
        );
      })}
      {after > 0 && <li aria-hidden="true" className="spacer" style={{ height: after }} />}
    </ul>
  );
}

const GroupItem = memo(function GroupItem({
  index,
  group: g,
  expanded,
  onToggle,
  nowMs,
  selected,
  measure,
}: {
  index: number;
  group: ThreadGroup;
  expanded: boolean;
  onToggle: (key: string) => void;
  nowMs: number;
  selected: boolean;
  measure: ((el: Element | null) => void) | undefined;
}) {
  const first = g.threads[0];
  let oldest = Infinity;
  for (const t of g.threads) {
    if (t.notMoving) oldest = Math.min(oldest, Number(t.unchangedSinceMs));
  }
  return (
    <li ref={measure} data-index={index} className={selected ? "group selected" : "group"}>
      <button
        type="button"
        className="group-head"
        aria-expanded={expanded}
        onClick={() => onToggle(g.key)}
      >
        <span aria-hidden="true">{expanded ? "▾" : "▸"}</span>{" "}
        <strong>{clip(first?.thread?.name ?? "", 80)}</strong>
        {/* Session links name a session's thread by its id (a Python ident for
            Beam): show it where it differs from the name, so the link's thread is found. */}
        {g.threads.length === 1 &&
          first?.thread?.sessionId &&
          first.thread.threadId &&
          first.thread.threadId !== first.thread.name && (
            <span className="sub"> id {clip(first.thread.threadId, 24)}</span>
          )}
        {g.threads.length > 1 && (
          <span className="count"> and {g.threads.length - 1} more with this stack</span>
        )}
        {g.notMoving > 0 && (
          <span className="badge badge-unresponsive">
            not moving for {formatDuration(nowMs - oldest)}
          </span>
        )}
        {g.changed > 0 && <span className="badge badge-waiting">{g.changed} changed</span>}
        <span className="sub"> {clip(g.frames[0] ?? "(no frames)", 100)}</span>
      </button>
      {expanded && (
        <div className="group-body">
          <p className="sub">
            {g.threads
              .slice(0, 20)
              .map(
                (t) =>
                  `${t.thread?.name ?? ""} (${t.thread?.state ?? ""})${t.thread?.sessionId ? ` session ${t.thread.sessionId}` : ""}`,
              )
              .join(", ")}
            {g.threads.length > 20 ? `, and ${g.threads.length - 20} more` : ""}
          </p>
          <pre className="stack">
            {g.frames
              .slice(0, FRAMES_SHOWN)
              .map((f) => `  at ${f}`)
              .join("\n")}
            {g.frames.length > FRAMES_SHOWN
              ? `\n  … ${g.frames.length - FRAMES_SHOWN} more frames (Copy or Download for all)`
              : ""}
          </pre>
        </div>
      )}
    </li>
  );
});
