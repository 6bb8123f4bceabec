import { Link } from "react-router";
import type { PolicyDecision } from "../../../../gen/stallwatch/v1/policy_pb";
import { DataTable } from "../../../shared/data-table";
import { clip, formatClock } from "../../../shared/format";
import { snapshotPath } from "../../../shared/snapshot-path";
import { modeWord, outcomeTone, outcomeWord } from "../api/policy-words";

const COLUMNS = ["When", "Policy", "Outcome", "Worker / session", "Evidence", "Action"];

/**
 * Each match and what came of it, newest first, with the evidence the policy
 * saw (and the snapshot frozen at that moment) and the action it took, so an
 * automatic cancel is as explainable as a person's.
 */
export function DecisionTable({ decisions }: { decisions: PolicyDecision[] }) {
  return (
    <DataTable columns={COLUMNS} className="policy-decisions">
      {decisions.map((d) => (
        <tr key={d.decisionId} data-decision-id={d.decisionId}>
          <td>{formatClock(d.atMs)}</td>
          <td>
            <Link to={`/policies?policy=${encodeURIComponent(d.policy)}`}>{d.policy}</Link>
            <div className="sub">{modeWord(d.mode)}</div>
          </td>
          <td>
            <span className={`badge ${outcomeTone(d.outcome)}`}>{outcomeWord(d.outcome)}</span>
            {d.detail && <div className="sub">{clip(d.detail, 160)}</div>}
          </td>
          <td>
            <Link to={`/workers/${encodeURIComponent(d.workerId)}`}>{clip(d.workerId, 40)}</Link>
            {d.sessionId && <div className="sub">{clip(d.sessionId, 24)}</div>}
          </td>
          <td title={d.evidence}>
            {clip(d.evidence, 200)}
            {d.evidenceSnapshotId && (
              <div>
                <Link to={snapshotPath(d.evidenceSnapshotId, d.workerId)}>Evidence snapshot</Link>
              </div>
            )}
          </td>
          <td>
            {d.actionId ? (
              <Link
                to={`/audit?worker=${encodeURIComponent(d.workerId)}&action=${encodeURIComponent(d.actionId)}`}
              >
                Audit record
              </Link>
            ) : (
              "—"
            )}
          </td>
        </tr>
      ))}
    </DataTable>
  );
}
