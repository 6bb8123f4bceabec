import { useState } from "react";
import type { ThreadDumpView as Dump } from "../../../../gen/stallwatch/v1/fleet_pb";
import { formatClock } from "../../../shared/format";
import { SearchBox } from "../../../shared/hidden-label-input";
import { dumpAsText } from "../api/group-threads";

/**
 * Above a dump: search, expand/collapse all, copy and download (the whole
 * dump, or the raw text while it is shown), the raw/parsed switch, and what
 * the dump is (when, from where, how many threads and groups).
 */
export function ThreadDumpToolbar({
  current,
  previous,
  filter,
  onFilter,
  allOpen,
  onAllOpen,
  showRaw,
  onShowRaw,
  total,
  groupCount,
}: {
  current: Dump;
  previous: Dump | undefined;
  filter: string;
  onFilter: (text: string) => void;
  allOpen: boolean;
  onAllOpen: (open: boolean) => void;
  showRaw: boolean;
  onShowRaw: (raw: boolean) => void;
  total: number;
  groupCount: number;
}) {
  const [copied, setCopied] = useState(false);
  const text = () => (showRaw && current.rawText ? current.rawText : dumpAsText(current));
  return (
    <div className="dump-toolbar">
      <SearchBox
        label="Search threads"
        placeholder="Search thread name or frame"
        value={filter}
        onChange={onFilter}
      />
      <button type="button" onClick={() => onAllOpen(!allOpen)} aria-pressed={allOpen}>
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
        taken {formatClock(current.takenAtMs)} ({current.source}, {String(current.costMicros)} µs),{" "}
        {total} threads in {groupCount} groups
        {previous ? `; diff against ${formatClock(previous.takenAtMs)}` : ""}
        {current.truncated ? "; cut at the size cap" : ""}
      </span>
    </div>
  );
}
