import { Link } from "react-router";
import { DataTable } from "../../../shared/data-table";
import { clip, formatDuration } from "../../../shared/format";
import { ConnectionIndicator } from "../../../shared/connection-indicator";
import { Page } from "../../../shared/page";
import { useNow } from "../../../shared/use-now";
import { stateName } from "../../../shared/session-state";
import { useStalledSessions } from "../api/use-stalled-sessions";

const COLUMNS = ["Without progress", "Worker", "Session", "State", "Why", "Thread"];

/** Every stalled session in the fleet, longest without progress first. */
export function StalledPage() {
  const { data, status, lastMessageAtMs } = useStalledSessions();
  const sessions = data.sessions;
  const now = useNow();
  return (
    <Page
      id="stalled-title"
      title="Stalled sessions"
      head={
        <>
          <span className="sub">
            {sessions ? `${sessions.length} stalled, longest without progress first` : ""}
          </span>
          <ConnectionIndicator status={status} asOfMs={lastMessageAtMs} />
        </>
      }
    >
      {!sessions && <p className="sub">Loading…</p>}
      {sessions?.length === 0 && <p>No session is stalled.</p>}
      {sessions && sessions.length > 0 && (
        <DataTable columns={COLUMNS}>
          {sessions.map((v) => {
            const s = v.session;
            const worker = `/workers/${encodeURIComponent(v.workerId)}`;
            return (
              <tr key={`${v.workerId}/${s?.sessionId ?? ""}`} className="stalled">
                <td className="num">
                  {formatDuration(Math.max(0, now - Number(v.lastProgressAtMs)))}
                </td>
                <td>
                  <Link to={worker}>{clip(v.workerId, 50)}</Link>
                </td>
                <td>
                  <Link to={`${worker}?session=${encodeURIComponent(s?.sessionId ?? "")}`}>
                    <code>{clip(s?.sessionId ?? "", 20)}</code>
                  </Link>{" "}
                  <span className="sub">{clip(s?.udfName ?? "", 30)}</span>
                </td>
                <td>{s ? stateName(s.state) : ""}</td>
                <td>{clip(v.stallReason, 100)}</td>
                <td>
                  {s?.threadId && (
                    <Link
                      to={`${worker}?tab=threads&session=${encodeURIComponent(s.sessionId)}`}
                      title={`thread id ${clip(s.threadId, 100)}`}
                    >
                      {clip(v.threadName || s.threadId, 24)}
                    </Link>
                  )}
                </td>
              </tr>
            );
          })}
        </DataTable>
      )}
    </Page>
  );
}
