import { memo } from "react";
import "../../../shared/badge-tones.css";
import { clip, formatDuration } from "../../../shared/format";
import type { ThreadGroup } from "../api/group-threads";

const FRAMES_SHOWN = 40;

/** One group of threads with the same stack: a head that toggles, the stack when expanded. */
export const GroupItem = memo(function GroupItem({
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
          <span className="badge tone-bad">not moving for {formatDuration(nowMs - oldest)}</span>
        )}
        {g.changed > 0 && <span className="badge tone-muted">{g.changed} changed</span>}
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
