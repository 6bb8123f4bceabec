import { Link, useParams, useSearchParams } from "react-router";
import { ago, clip, formatBytes, formatMs } from "../../../shared/format";
import { KIND_LABEL } from "../../../shared/liveness";
import { useNow } from "../../../shared/use-now";
import { ConnectionIndicator } from "../../fleet/components/connection-indicator";
import { LivenessBadge } from "../../fleet/components/liveness-badge";
import { useWorkerWatch } from "../api/use-worker-watch";

const WINDOWS = [1, 5, 15];

/** One worker: liveness, latency, metrics; window and tab in the URL. */
export function WorkerPage() {
  const { workerId = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const windowMinutes = WINDOWS.includes(Number(params.get("window")))
    ? Number(params.get("window"))
    : 5;
  const { detail, status, fatal, lastMessageAtMs } = useWorkerWatch(workerId, windowMinutes);
  const now = useNow();

  if (fatal) {
    return (
      <section className="problem" aria-labelledby="worker-title">
        <h1 id="worker-title">{clip(workerId, 100)}</h1>
        <p role="alert">
          {fatal.rawMessage}. <Link to="/">Back to the fleet</Link>
        </p>
      </section>
    );
  }
  const w = detail?.worker;
  return (
    <section aria-labelledby="worker-title">
      <div className="page-head">
        <Link to="/" className="back">
          ← Fleet
        </Link>
        <h1 id="worker-title" title={workerId}>
          {clip(workerId, 100)}
        </h1>
        {w && <LivenessBadge liveness={w.liveness} />}
        <ConnectionIndicator status={status} asOfMs={lastMessageAtMs} />
      </div>
      {!w ? (
        <p className="sub">Loading…</p>
      ) : (
        <>
          <dl className="facts">
            <dt>Address</dt>
            <dd>{w.address}</dd>
            <dt>Kind</dt>
            <dd>{KIND_LABEL[w.kind]}</dd>
            <dt>Liveness</dt>
            <dd>
              {w.livenessReason} (since {ago(w.livenessSinceMs, now)})
            </dd>
            <dt>Last heartbeat</dt>
            <dd>{ago(w.lastHeartbeatAtMs, now)}</dd>
            <dt>Latency</dt>
            <dd>
              last {formatMs(w.latency?.lastMs ?? 0)}, p50 {formatMs(w.latency?.p50Ms ?? 0)}, p99{" "}
              {formatMs(w.latency?.p99Ms ?? 0)} over {w.latency?.samples ?? 0} beats
            </dd>
            {w.agent && (
              <>
                <dt>Runtime</dt>
                <dd>
                  {w.agent.runtime} · pid {w.agent.pid} on {w.agent.host} · agent{" "}
                  {w.agent.connected ? "connected" : `disconnected (${w.agent.closedReason})`}
                </dd>
              </>
            )}
          </dl>
          <div className="window-picker" role="group" aria-label="History window">
            {WINDOWS.map((m) => (
              <button
                key={m}
                type="button"
                aria-pressed={m === windowMinutes}
                onClick={() => setParams({ window: String(m) }, { replace: true })}
              >
                {m} min
              </button>
            ))}
          </div>
          <h2>Worker metrics</h2>
          <table className="metrics-table">
            <thead>
              <tr>
                <th scope="col">Metric</th>
                <th scope="col">Latest</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(w.metrics).map(([name, value]) => (
                <tr key={name}>
                  <th scope="row">{clip(name, 80)}</th>
                  <td className="num" title={value}>
                    {name.endsWith("_bytes") && Number.isFinite(Number(value))
                      ? formatBytes(Number(value))
                      : clip(value, 80)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
