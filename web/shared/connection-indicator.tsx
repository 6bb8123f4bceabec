import { formatClock } from "./format";
import type { StreamStatus } from "./use-stream";
import "./connection-indicator.css";

/** "live", or "reconnecting… data as of 12:03:44" so stale data is never mistaken for live. */
export function ConnectionIndicator({ status, asOfMs }: { status: StreamStatus; asOfMs: number }) {
  const text =
    status === "live"
      ? "live"
      : status === "connecting"
        ? "connecting…"
        : status === "ended"
          ? `ended; data as of ${formatClock(asOfMs)}`
          : `reconnecting… data as of ${formatClock(asOfMs)}`;
  return (
    <span role="status" aria-live="polite" className={`connection connection-${status}`}>
      <span className="dot" aria-hidden="true" />
      {text}
    </span>
  );
}
