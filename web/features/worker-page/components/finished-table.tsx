import { SessionOutcome, type FinishedSession } from "../../../../gen/stallwatch/v1/agent_pb";
import { DataTable } from "../../../shared/data-table";
import { clip, formatBytes, formatDuration } from "../../../shared/format";
import { stateKey } from "../../../shared/state-key";

const OUTCOME: Record<SessionOutcome, string> = {
  [SessionOutcome.UNSPECIFIED]: "unknown",
  [SessionOutcome.FINISHED]: "finished",
  [SessionOutcome.CANCELLED]: "cancelled",
  [SessionOutcome.FAILED]: "failed",
};

const COLUMNS = [
  "Session",
  "UDF",
  "Outcome",
  "Rows in / out",
  "Rows/s",
  "Bytes in / out",
  "Work wall / CPU",
];

const ms = (nanos: bigint | undefined) => Number(nanos ?? 0n) / 1e6;

/** Recently finished sessions with their ExecutionMetrics. */
export function FinishedTable({ finished }: { finished: FinishedSession[] }) {
  if (finished.length === 0) return <p className="sub">No finished sessions reported yet.</p>;
  return (
    <DataTable className="finished-table" columns={COLUMNS}>
      {finished.slice(0, 20).map((f) => {
        const m = f.metrics;
        const wallMs = ms(m?.processingWallNanos) || Number(f.endedAtMs - f.startedAtMs);
        const rowsIn = Number(m?.rowsIn ?? 0n);
        return (
          <tr key={f.sessionId}>
            <td>
              <code>{clip(f.sessionId, 20)}</code>
            </td>
            <td>{clip(f.udfName || "—", 30)}</td>
            <td title={f.errorMessage}>
              <span className={`outcome outcome-${stateKey(SessionOutcome, f.outcome)}`}>
                {OUTCOME[f.outcome]}
              </span>
              {f.errorMessage && <div className="sub reason">{clip(f.errorMessage, 80)}</div>}
            </td>
            <td className="num">
              {rowsIn} / {String(m?.rowsOut ?? 0n)}
            </td>
            <td className="num">{wallMs > 0 ? Math.round((rowsIn / wallMs) * 1000) : "—"}</td>
            <td className="num">
              {formatBytes(Number(m?.bytesIn ?? 0n))} / {formatBytes(Number(m?.bytesOut ?? 0n))}
            </td>
            <td className="num">
              {formatDuration(ms(m?.workWallNanos)) === "now"
                ? `${ms(m?.workWallNanos).toFixed(1)} ms`
                : formatDuration(ms(m?.workWallNanos))}{" "}
              / {ms(m?.workCpuNanos).toFixed(0)} ms
            </td>
          </tr>
        );
      })}
    </DataTable>
  );
}
