import { useSearchParams } from "react-router";
import { ActionKind } from "../../../../gen/stallwatch/v1/control_pb";
import { clip, formatClock } from "../../../shared/format";
import { useUrlFilter } from "../../../shared/use-url-filter";
import { useAudit } from "../api/audit";
import { AuditResult } from "./audit-result";

/** Who did what, why, when, and how it ended; filterable, filters in the URL. */
export function AuditPage() {
  const [filter, set] = useUrlFilter({ workerId: "worker", actor: "actor" });
  const { data, error, refetch } = useAudit(filter);
  // `?action=` (the action dialog's "Audit record" link) marks that action's record.
  const [params] = useSearchParams();
  const marked = params.get("action") ?? "";
  return (
    <section aria-labelledby="audit-title">
      <div className="page-head">
        <h1 id="audit-title">Audit log</h1>
      </div>
      <div className="filters" role="search">
        <label>
          Worker <input value={filter.workerId} onChange={(e) => set("workerId", e.target.value)} />
        </label>
        <label>
          Actor <input value={filter.actor} onChange={(e) => set("actor", e.target.value)} />
        </label>
      </div>
      {error && (
        <p role="alert">
          Could not load the audit log: {error.message}.{" "}
          <button type="button" onClick={() => void refetch()}>
            Retry
          </button>
        </p>
      )}
      {data?.records.length === 0 && (
        <p>No actions recorded{filter.workerId || filter.actor ? " for this filter" : ""}.</p>
      )}
      {data && data.records.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col">Worker / session</th>
              <th scope="col">Why</th>
              <th scope="col">Result</th>
            </tr>
          </thead>
          <tbody>
            {data.records.map((r) => (
              <tr
                key={r.id}
                data-action-id={r.actionId}
                aria-current={marked !== "" && r.actionId === marked ? "true" : undefined}
              >
                <td>{formatClock(r.atMs)}</td>
                <td>{clip(r.actor, 40)}</td>
                <td>{ActionKind[r.kind].toLowerCase().replace("_", " ")}</td>
                <td>
                  {clip(r.workerId, 40)}
                  {r.sessionId && <div className="sub">{clip(r.sessionId, 20)}</div>}
                </td>
                <td>{clip(r.reason, 120)}</td>
                <td>
                  <AuditResult record={r} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
