import { Link } from "react-router";
import type { SessionView } from "../../../../gen/stallwatch/v1/fleet_pb";
import { DataTable } from "../../../shared/data-table";
import { ago, clip, formatDuration } from "../../../shared/format";
import { stateName } from "../../../shared/session-state";

const COLUMNS = ["Session", "State", "Time in state", "Progress", "UDF", "Task"];

function context(tc: Record<string, string>): string {
  return Object.entries(tc)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}

/** Live sessions: state, time in state (stall highlighted), progress, UDF, task context. */
export function SessionsTable({
  sessions,
  nowMs,
  selected,
  dumpLink,
  renderCancel,
}: {
  sessions: SessionView[];
  nowMs: number;
  selected?: string;
  /** Where a session's thread is shown. */
  dumpLink?: (view: SessionView) => string;
  renderCancel?: (view: SessionView) => React.ReactNode;
}) {
  if (sessions.length === 0) return <p className="sub">No live sessions.</p>;
  return (
    <DataTable
      className="sessions-table"
      columns={[...COLUMNS, renderCancel !== undefined && "Action"]}
    >
      {sessions.map((view) => {
        const s = view.session;
        if (!s) return null;
        const p = s.progress;
        return (
          <tr
            key={s.sessionId}
            data-session-id={s.sessionId}
            className={view.stalled ? "stalled" : undefined}
            aria-selected={selected === s.sessionId}
          >
            <td>
              <code>{clip(s.sessionId, 20)}</code>
            </td>
            <td>{stateName(s.state)}</td>
            <td>
              {formatDuration(Math.max(0, nowMs - Number(s.stateEnteredAtMs)))}
              {view.stalled && (
                <div className="stall-flag" title={view.stallReason}>
                  stalled: {clip(view.stallReason, 80)}
                </div>
              )}
            </td>
            <td className="num">
              {String(p?.rowsIn ?? 0n)} rows in, {String(p?.rowsOut ?? 0n)} out
              <div className="sub">last progress {ago(view.lastProgressAtMs, nowMs)}</div>
            </td>
            <td title={s.udfFormat}>
              {clip(s.udfName || "—", 40)}
              {s.threadId && dumpLink && (
                <div>
                  <Link to={dumpLink(view)} title={`thread id ${clip(s.threadId, 100)}`}>
                    thread {clip(view.threadName || s.threadId, 24)}
                  </Link>
                </div>
              )}
            </td>
            <td className="sub">{clip(context(s.taskContext), 60)}</td>
            {renderCancel && <td>{renderCancel(view)}</td>}
          </tr>
        );
      })}
    </DataTable>
  );
}
