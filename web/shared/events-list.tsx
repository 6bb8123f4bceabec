import { Link } from "react-router";
import type { FleetEvent } from "../../gen/stallwatch/v1/fleet_pb";
import { clip, formatClock } from "./format";
import "./events-list.css";

/**
 * Events with their evidence: the dump pinned when it happened, one click
 * away. `workerLink` names each event's worker (the fleet-wide list: a
 * session event's summary does not say whose session it is).
 */
export function EventsList({
  events,
  workerLink,
}: {
  events: FleetEvent[];
  workerLink?: (workerId: string) => string;
}) {
  if (events.length === 0) return <p className="sub">No events.</p>;
  return (
    <ol className="events">
      {events.map((e) => (
        <li key={e.id}>
          <time dateTime={new Date(Number(e.atMs)).toISOString()}>{formatClock(e.atMs)}</time>{" "}
          <span className="event-kind">{e.kind.replace("_", " ")}</span>{" "}
          {workerLink && e.workerId ? (
            <>
              <Link to={workerLink(e.workerId)}>{clip(e.workerId, 60)}</Link>
              {/* Liveness summaries already start with the worker's id. */}
              {e.summary.startsWith(`${e.workerId} `)
                ? clip(e.summary.slice(e.workerId.length), 200)
                : `: ${clip(e.summary, 200)}`}
            </>
          ) : (
            clip(e.summary, 200)
          )}
          {e.evidence && e.evidence.threads.length > 0 && (
            <details>
              <summary>
                evidence: thread dump at {formatClock(e.evidence.takenAtMs)} (
                {e.evidence.threads.length} threads)
              </summary>
              <pre className="stack">
                {e.evidence.threads
                  .map(
                    (t) =>
                      `${t.thread?.name ?? ""}${t.notMoving ? "  [not moving]" : ""}\n  ${(t.thread?.frames ?? []).join("\n  ")}`,
                  )
                  .join("\n\n")}
              </pre>
            </details>
          )}
        </li>
      ))}
    </ol>
  );
}
