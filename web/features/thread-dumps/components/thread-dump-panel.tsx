import { useThreadDumps } from "../api/use-thread-dumps";
import { ThreadDumpView } from "./thread-dump-view";

const INTERVALS = [1000, 2000, 5000];

/** The live dump of a worker: streams while open, pausable; options in the URL. */
export function ThreadDumpPanel({
  workerId,
  nowMs,
  params,
  onParams,
  sessionId,
}: {
  workerId: string;
  nowMs: number;
  params: URLSearchParams;
  onParams: (patch: Record<string, string | undefined>) => void;
  sessionId?: string;
}) {
  const intervalMs = INTERVALS.includes(Number(params.get("every")))
    ? Number(params.get("every"))
    : 2000;
  const paused = params.get("paused") === "1";
  const { current, previous, error, fatal, status } = useThreadDumps(workerId, intervalMs, paused);
  return (
    <div>
      <div className="dump-controls">
        <button
          type="button"
          aria-pressed={paused}
          onClick={() => onParams({ paused: paused ? undefined : "1" })}
        >
          {paused ? "Resume" : "Pause"}
        </button>
        <label>
          Every{" "}
          <select value={intervalMs} onChange={(e) => onParams({ every: e.target.value })}>
            {INTERVALS.map((ms) => (
              <option key={ms} value={ms}>
                {ms / 1000} s
              </option>
            ))}
          </select>
        </label>
        <span className="sub">{paused ? "paused" : status === "live" ? "streaming" : status}</span>
      </div>
      {fatal && <p role="alert">{fatal.rawMessage}</p>}
      {error && <p className="sub">Last round: {error}</p>}
      {current ? (
        <ThreadDumpView
          current={current}
          {...(previous ? { previous } : {})}
          nowMs={nowMs}
          filter={params.get("q") ?? ""}
          onFilter={(q) => onParams({ q })}
          showRaw={params.get("raw") === "1"}
          onShowRaw={(raw) => onParams({ raw: raw ? "1" : undefined })}
          sessionId={sessionId}
        />
      ) : (
        !fatal && <p className="sub">Waiting for the first dump…</p>
      )}
    </div>
  );
}
