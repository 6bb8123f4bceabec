import { useState, type ReactNode } from "react";
import { Link } from "react-router";
import type { SessionView, WorkerDetail } from "../../../../gen/stallwatch/v1/fleet_pb";
import { ago, clip, formatBytes, formatMs } from "../../../shared/format";
import { KIND_LABEL } from "../../../shared/liveness";
import { LivenessBadge } from "../../../shared/liveness-badge";
import { EventsList } from "../../../shared/events-list";
import { FinishedTable } from "./finished-table";
import { LatencyChart, MetricChart } from "./lazy-charts";
import { SessionsTable } from "./sessions-table";
import { BeamStatusFacts } from "./beam-status-facts.js";

export const WINDOWS = [1, 5, 15];

export interface WorkerDetailViewProps {
  detail: WorkerDetail;
  nowMs: number;
  windowMinutes: number;
  onWindow?: (minutes: number) => void;
  selectedSession?: string;
  /** Link to the thread running a session. */
  threadLink: (sessionId: string) => string;
  /** Header extras: connection indicator, actions, share. */
  headerExtra?: ReactNode;
  /** Per-session action (cancel); absent in read-only snapshots. */
  sessionAction?: (view: SessionView) => ReactNode;
  /** Link to all of this worker's events; absent in snapshots (it would leave them). */
  eventsLink?: string;
}

/** One worker, everything but the live dump; presentational (live page and snapshots). */
export function WorkerDetailView({
  detail,
  nowMs,
  windowMinutes,
  onWindow,
  selectedSession,
  threadLink,
  headerExtra,
  sessionAction,
  eventsLink,
}: WorkerDetailViewProps) {
  const w = detail.worker;
  const [metricName, setMetricName] = useState("active_sessions");
  if (!w) return null;
  const metric = detail.metrics.find((m) => m.name === metricName) ?? detail.metrics[0];
  return (
    <>
      <div className="page-head">
        <h1 id="worker-title" title={w.id}>
          {clip(w.id, 100)}
        </h1>
        <LivenessBadge liveness={w.liveness} />
        {headerExtra}
      </div>
      <dl className="facts">
        <dt>Address</dt>
        <dd>{w.address}</dd>
        <dt>Kind</dt>
        <dd>{KIND_LABEL[w.kind]}</dd>
        <dt>Liveness</dt>
        <dd>
          {clip(w.livenessReason, 300)} (since {ago(w.livenessSinceMs, nowMs)})
        </dd>
        <dt>Last heartbeat</dt>
        <dd>{ago(w.lastHeartbeatAtMs, nowMs)}</dd>
        <dt>Latency</dt>
        <dd>
          last {formatMs(w.latency?.lastMs ?? 0)}, p50 {formatMs(w.latency?.p50Ms ?? 0)}, p99{" "}
          {formatMs(w.latency?.p99Ms ?? 0)} over {w.latency?.samples ?? 0} beats
        </dd>
        {w.agent && (
          <>
            <dt>Runtime</dt>
            <dd>
              {clip(w.agent.runtime, 60)} · pid {w.agent.pid} on {clip(w.agent.host, 60)} · agent{" "}
              {w.agent.connected
                ? "connected"
                : `disconnected (${clip(w.agent.closedReason, 100)})`}
            </dd>
          </>
        )}
        <BeamStatusFacts detail={detail} />
        {w.metrics.rss_bytes && (
          <>
            <dt>Memory</dt>
            <dd>{formatBytes(Number(w.metrics.rss_bytes))} RSS</dd>
          </>
        )}
      </dl>

      <section aria-labelledby="latency-title">
        <div className="section-head">
          <h2 id="latency-title">Heartbeat latency</h2>
          {onWindow && (
            <div className="window-picker" role="group" aria-label="History window">
              {WINDOWS.map((m) => (
                <button
                  key={m}
                  type="button"
                  aria-pressed={m === windowMinutes}
                  onClick={() => onWindow(m)}
                >
                  {m} min
                </button>
              ))}
            </div>
          )}
        </div>
        <LatencyChart series={detail.roundTripsMs} misses={detail.missedBeats} />
      </section>

      <section aria-labelledby="sessions-title">
        <h2 id="sessions-title">Sessions ({detail.sessions.length})</h2>
        <SessionsTable
          sessions={detail.sessions}
          nowMs={nowMs}
          {...(selectedSession ? { selected: selectedSession } : {})}
          dumpLink={(v) => threadLink(v.session?.sessionId ?? "")}
          {...(sessionAction
            ? {
                renderCancel: sessionAction,
              }
            : {})}
        />
      </section>

      <section aria-labelledby="metrics-title">
        <div className="section-head">
          <h2 id="metrics-title">Worker metrics</h2>
          {detail.metrics.length > 0 && (
            <label>
              Metric{" "}
              <select value={metric?.name ?? ""} onChange={(e) => setMetricName(e.target.value)}>
                {detail.metrics.map((m) => (
                  <option key={m.name} value={m.name}>
                    {clip(m.name, 60)}
                  </option>
                ))}
              </select>
            </label>
          )}
        </div>
        <MetricChart metric={metric} />
      </section>

      <section aria-labelledby="finished-title">
        <h2 id="finished-title">Recently finished</h2>
        <FinishedTable finished={detail.finished} />
      </section>

      <section aria-labelledby="events-title">
        <h2 id="events-title">Events</h2>
        <EventsList events={detail.events} />
        {eventsLink && <Link to={eventsLink}>All events of this worker</Link>}
      </section>
    </>
  );
}
