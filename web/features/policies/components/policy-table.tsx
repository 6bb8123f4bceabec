import { Link } from "react-router";
import type { Policy } from "../../../../gen/stallwatch/v1/policy_pb";
import { DataTable } from "../../../shared/data-table";
import { ago } from "../../../shared/format";
import { useNow } from "../../../shared/use-now";
import { actionKindWord } from "../../../shared/action-kind-word";
import { capReached, capText, modeText, modeTone } from "../api/policy-words";

const COLUMNS = [
  "Policy",
  "Mode",
  "Does",
  "Matches",
  "Would have acted",
  "Acted",
  "Skipped (cap)",
  "Failed",
  "Cap",
  "Last match",
];

/**
 * One row per policy: what it does, in which mode, and what it has done.
 * A policy's name links to its decisions (the filter is in the URL).
 */
export function PolicyTable({ policies, selected }: { policies: Policy[]; selected: string }) {
  const now = useNow();
  return (
    <DataTable columns={COLUMNS} className="policies">
      {policies.map((p) => {
        const counts = p.counts;
        const full = capReached(p);
        return (
          <tr key={p.name} aria-current={p.name === selected ? "true" : undefined}>
            <td>
              <Link to={`/policies?policy=${encodeURIComponent(p.name)}`}>{p.name}</Link>
              <div className="sub">{p.summary}</div>
            </td>
            <td>
              <span className={`badge ${modeTone(p.effectiveMode)}`}>{modeText(p)}</span>
            </td>
            <td>{actionKindWord(p.action)}</td>
            <td className="num">{String(counts?.matches ?? 0n)}</td>
            <td className="num">{String(counts?.wouldHaveActed ?? 0n)}</td>
            <td className="num">{String(counts?.acted ?? 0n)}</td>
            <td className="num">{String(counts?.skippedCap ?? 0n)}</td>
            <td className="num">{String(counts?.failed ?? 0n)}</td>
            <td>
              {full ? <span className="badge tone-bad">cap reached</span> : null} {capText(p)}
            </td>
            <td>{ago(p.lastMatchedAtMs, now)}</td>
          </tr>
        );
      })}
    </DataTable>
  );
}
