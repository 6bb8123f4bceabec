import { useSearchParams } from "react-router";
import { actionKindWord } from "../../../shared/action-kind-word";
import { DataTable } from "../../../shared/data-table";
import { clip, formatClock } from "../../../shared/format";
import { LoadError } from "../../../shared/load-error";
import { Page } from "../../../shared/page";
import { useUrlFilter } from "../../../shared/use-url-filter";
import { useAudit } from "../api/audit";
import { AuditResult } from "./audit-result";
import { TextFilter } from "./text-filter";

const COLUMNS = ["When", "Who", "What", "Worker / session", "Why", "Result"];

/** Who did what, why, when, and how it ended; filterable, filters in the URL. */
export function AuditPage() {
  const [filter, set] = useUrlFilter({ workerId: "worker", actor: "actor" });
  const { data, error, refetch } = useAudit(filter);
  // `?action=` (the action dialog's "Audit record" link) marks that action's record.
  const [params] = useSearchParams();
  const marked = params.get("action") ?? "";
  return (
    <Page id="audit-title" title="Audit log">
      <div className="filters" role="search">
        <TextFilter label="Worker" value={filter.workerId} onChange={(v) => set("workerId", v)} />
        <TextFilter label="Actor" value={filter.actor} onChange={(v) => set("actor", v)} />
      </div>
      <LoadError error={error} what="load the audit log" retry={refetch} />
      {data?.records.length === 0 && (
        <p>No actions recorded{filter.workerId || filter.actor ? " for this filter" : ""}.</p>
      )}
      {data && data.records.length > 0 && (
        <DataTable columns={COLUMNS}>
          {data.records.map((r) => (
            <tr
              key={r.id}
              data-action-id={r.actionId}
              aria-current={marked !== "" && r.actionId === marked ? "true" : undefined}
            >
              <td>{formatClock(r.atMs)}</td>
              <td>{clip(r.actor, 40)}</td>
              <td>{actionKindWord(r.kind)}</td>
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
        </DataTable>
      )}
    </Page>
  );
}
