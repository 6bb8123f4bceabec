import { useWindowVirtualizer } from "@tanstack/react-virtual";
import { useLayoutEffect, useRef, useState } from "react";
import type { ThreadGroup } from "../api/group-threads";
import { GroupItem } from "./group-item";

/** From this many groups on, only those near the viewport are in the DOM. */
const VIRTUALIZE_FROM = 80;
const GROUP_HEIGHT = 34;

/**
 * The groups, virtualized against the window's scroll when there are many
 * (a dump where every thread has its own stack is thousands of groups):
 * rows are measured as they render, since an expanded group is taller.
 */
export function ThreadGroups({
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
  const virtualItems = virtual ? virtualizer.getVirtualItems() : [];
  // The virtualizer's window is one run of consecutive indices.
  const start = virtualItems[0]?.index ?? 0;
  const end = virtual ? (virtualItems.at(-1)?.index ?? -1) + 1 : groups.length;
  const margin = offsetTop;
  const before = virtual ? Math.max(0, (virtualItems[0]?.start ?? margin) - margin) : 0;
  const after = virtual
    ? Math.max(0, virtualizer.getTotalSize() - ((virtualItems.at(-1)?.end ?? margin) - margin))
    : 0;
  return (
    <ul className="thread-groups" ref={list} aria-setsize={groups.length}>
      {before > 0 && <li aria-hidden="true" className="spacer" style={{ height: before }} />}
      {groups.slice(start, end).map((g, i) => (
        <GroupItem
          key={g.key}
          index={start + i}
          group={g}
          expanded={allOpen || open.has(g.key)}
          onToggle={onToggle}
          nowMs={nowMs}
          selected={
            sessionId !== undefined && g.threads.some((t) => t.thread?.sessionId === sessionId)
          }
          measure={virtual ? virtualizer.measureElement : undefined}
        />
      ))}
      {after > 0 && <li aria-hidden="true" className="spacer" style={{ height: after }} />}
    </ul>
  );
}
