import { useMemo, useState } from "react";
import type { ThreadDumpView as Dump } from "../../../../gen/stallwatch/v1/fleet_pb";
import { clip, formatClock, formatDuration } from "../../../shared/format";
import { dumpAsText, groupThreads } from "../api/group-threads";

const FRAMES_SHOWN = 40;

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
  const toggle = (key: string) =>
    setOpen((s) => {
      const next = new Set(s);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });

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
        <ul className="thread-groups">
          {grouped.groups.map((g) => {
            const expanded = allOpen || open.has(g.key);
            const first = g.threads[0];
            const mine =
              sessionId !== undefined && g.threads.some((t) => t.thread?.sessionId === sessionId);
            const oldest = Math.min(
              ...g.threads.filter((t) => t.notMoving).map((t) => Number(t.unchangedSinceMs)),
            );
            return (
              <li key={g.key} className={mine ? "group selected" : "group"}>
                <button
                  type="button"
                  className="group-head"
                  aria-expanded={expanded}
                  onClick={() => toggle(g.key)}
                >
                  <span aria-hidden="true">{expanded ? "▾" : "▸"}</span>{" "}
                  <strong>{clip(first?.thread?.name ?? "", 80)}</strong>
                  {g.threads.length > 1 && (
                    <span className="count"> and {g.threads.length - 1} more with this stack</span>
                  )}
                  {g.notMoving > 0 && (
                    <span className="badge badge-unresponsive">
                      not moving for {formatDuration(nowMs - oldest)}
                    </span>
                  )}
                  {g.changed > 0 && (
                    <span className="badge badge-waiting">{g.changed} changed</span>
                  )}
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
          })}
        </ul>
      )}
      {grouped.gone.length > 0 && (
        <p className="sub">Gone since the previous dump: {grouped.gone.slice(0, 20).join(", ")}</p>
      )}
    </div>
  );
}
