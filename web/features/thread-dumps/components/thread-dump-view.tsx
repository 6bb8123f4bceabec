import { useCallback, useMemo, useState } from "react";
import type { ThreadDumpView as Dump } from "../../../../gen/stallwatch/v1/fleet_pb";
import { groupThreads } from "../api/group-threads";
import { ThreadDumpToolbar } from "./thread-dump-toolbar";
import { ThreadGroups } from "./thread-groups";

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
      <ThreadDumpToolbar
        current={current}
        previous={previous}
        filter={filter}
        onFilter={onFilter}
        allOpen={allOpen}
        onAllOpen={setAllOpen}
        showRaw={showRaw}
        onShowRaw={onShowRaw}
        total={grouped.total}
        groupCount={grouped.groups.length}
      />
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
