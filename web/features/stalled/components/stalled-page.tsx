import { Link } from "react-router";
import { clip, formatDuration } from "../../../shared/format";
import { useNow } from "../../../shared/use-now";
import { stateName } from "../../../shared/session-state";
import { useStalledSessions } from "../api/use-stalled-sessions";

/** Every stalled session in the fleet, longest without progress first. */
export function StalledPage() {
  const { data, error, isPending, refetch } = useStalledSessions();
  const now = useNow();
  return (
    <section aria-labelledby="stalled-title">
      <div className="page-head">
        <h1 id="stalled-title">Stalled sessions</h1>
        <span className="sub">
          {data ? `${data.sessions.length} stalled, longest without progress first` : ""}
        </span>
      </div>
      {error && (
        <p role="alert">
          Could not load stalled sessions: {error.message}.{" "}
          <button type="button" onClick={() => void refetch()}>
            Retry
          </button>
        </p>
      )}
      {isPending && <p className="sub">Loading…</p>}
      {data?.sessions.length === 0 && <p>No session is stalled.</p>}
      {data && data.sessions.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Without progress</th>
              <th scope="col">Worker</th>
              <th scope="col">Session</th>
              <th scope="col">State</th>
              <th scope="col">Why</th>
              <th scope="col">Thread</th>
            </tr>
          </thead>
          <tbody>
            {data.sessions.map((v) => {
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
                      <Link to={`${worker}?tab=threads&session=${encodeURIComponent(s.sessionId)}`}>
                        {clip(s.threadId, 24)}
                      </Link>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
