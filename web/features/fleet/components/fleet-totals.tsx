import type { FleetTotals } from "../../../../gen/stallwatch/v1/fleet_pb";
import { formatBytes } from "../../../shared/format";

/** Fleet-wide totals of finished sessions, from their ExecutionMetrics. */
export function FleetTotalsLine({ totals: t }: { totals: FleetTotals }) {
  const sessions = t.sessionsFinished + t.sessionsCancelled + t.sessionsFailed;
  if (sessions === 0n) return null;
  const wall = Number(t.workWallNanos) / 1e9;
  const cpu = Number(t.workCpuNanos) / 1e9;
  return (
    <p className="sub totals" aria-label="Fleet totals">
      Finished sessions: {String(t.sessionsFinished)} finished, {String(t.sessionsCancelled)}{" "}
      cancelled, {String(t.sessionsFailed)} failed · {String(t.rowsIn)} rows in, {String(t.rowsOut)}{" "}
      out · {formatBytes(Number(t.bytesIn))} in, {formatBytes(Number(t.bytesOut))} out · user code{" "}
      {wall.toFixed(1)} s wall, {cpu.toFixed(1)} s CPU
    </p>
  );
}
