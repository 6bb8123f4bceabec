import { Link, useParams, useSearchParams } from "react-router";
import { SessionState } from "../../../../gen/stallwatch/v1/agent_pb";
import { Liveness, WorkerKind } from "../../../../gen/stallwatch/v1/fleet_pb";
import { clip } from "../../../shared/format";
import { useNow } from "../../../shared/use-now";
import { ActionButton } from "../../actions/index";
import { ConnectionIndicator } from "../../../shared/connection-indicator";
import { ShareSnapshotButton } from "../../share-snapshot/index";
import { ProfileButton } from "../../profiles/index";
import { ThreadDumpPanel } from "../../thread-dumps/index";
import { useWorkerWatch } from "../api/use-worker-watch";
import { WINDOWS, WorkerDetailView } from "./worker-detail-view";

/** Why worker actions cannot apply to a worker in this state, if so. */
function endedReason(liveness: Liveness | undefined): string | undefined {
  if (liveness === Liveness.EXITED) return "the worker has exited";
  if (liveness === Liveness.GONE) return "the worker is gone (not connected)";
  return undefined;
}

/**
 * Why no action can reach this worker at all, if so. A Beam harness only
 * answers status requests: it has neither an agent nor a Manage endpoint, so
 * the gateway refuses every action on it (FailedPrecondition).
 */
function unreachableReason(kind: WorkerKind | undefined): string | undefined {
  if (kind === WorkerKind.BEAM)
    return "a Beam harness only reports status: there is no control endpoint to act on";
  return undefined;
}

/** One worker, live. Tab, window, selected session and dump options live in the URL. */
export function WorkerPage() {
  const { workerId = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const windowMinutes = WINDOWS.includes(Number(params.get("window")))
    ? Number(params.get("window"))
    : 5;
  const tab = params.get("tab") === "threads" ? "threads" : "overview";
  const selected = params.get("session") ?? undefined;
  const { detail, status, fatal, lastMessageAtMs } = useWorkerWatch(workerId, windowMinutes);
  const now = useNow();
  const set = (patch: Record<string, string | undefined>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined || v === "") next.delete(k);
      else next.set(k, v);
    }
    setParams(next, { replace: true });
  };

  if (fatal) {
    return (
      <section className="problem" aria-labelledby="worker-title">
        <h1 id="worker-title">{clip(workerId, 100)}</h1>
        <p role="alert">
          {fatal.rawMessage}. It may have left the fleet longer ago than the retention.{" "}
          <Link to="/">Back to the fleet</Link>
        </p>
      </section>
    );
  }
  const w = detail?.worker;
  const active = Number(w?.metrics.active_sessions ?? detail?.sessions.length ?? 0);
  const plural = (n: number) => `${n} session${n === 1 ? "" : "s"}`;
  const ended = unreachableReason(w?.kind) ?? endedReason(w?.liveness);
  return (
    <section aria-labelledby="worker-title">
      <Link to="/" className="back">
        ← Fleet
      </Link>
      <div className="tabs" role="tablist" aria-label="Worker views">
        <button
          type="button"
          role="tab"
          aria-selected={tab === "overview"}
          onClick={() => set({ tab: undefined })}
        >
          Overview
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={tab === "threads"}
          onClick={() => set({ tab: "threads" })}
        >
          Live thread dump
        </button>
      </div>
      {!detail ? (
        <p className="sub">
          Loading… <ConnectionIndicator status={status} asOfMs={lastMessageAtMs} />
        </p>
      ) : tab === "threads" ? (
        <>
          <h1 id="worker-title">{clip(workerId, 100)}: threads</h1>
          <ThreadDumpPanel
            workerId={workerId}
            nowMs={now}
            params={params}
            onParams={set}
            {...(selected ? { sessionId: selected } : {})}
          />
        </>
      ) : (
        <WorkerDetailView
          detail={detail}
          nowMs={now}
          windowMinutes={windowMinutes}
          onWindow={(m) => set({ window: String(m) })}
          {...(selected ? { selectedSession: selected } : {})}
          threadLink={(sessionId) =>
            `/workers/${encodeURIComponent(workerId)}?tab=threads&session=${encodeURIComponent(sessionId)}`
          }
          headerExtra={
            <>
              <ConnectionIndicator status={status} asOfMs={lastMessageAtMs} />
              <span className="actions">
                <ActionButton
                  label="Drain"
                  kind="drainWorker"
                  workerId={workerId}
                  unavailable={
                    ended ??
                    (w?.liveness === Liveness.DRAINING
                      ? "the worker is already draining"
                      : undefined)
                  }
                  consequence={`Drain lets ${plural(active)} finish, refuses new ones, then the worker exits.`}
                />
                <ActionButton
                  label="Cancel all"
                  kind="cancelWorker"
                  workerId={workerId}
                  unavailable={ended}
                  consequence={`Cancel aborts ${plural(active)} now (each gets an error, then CancelResponse), then the worker exits.`}
                />
                <ProfileButton
                  workerId={workerId}
                  sessionIds={detail.sessions
                    .map((v) => v.session?.sessionId ?? "")
                    .filter(Boolean)}
                  // A Beam harness has no control endpoint, but its thread dumps fold into a
                  // profile (the gateway samples them): only an ended worker cannot be profiled.
                  unavailable={endedReason(w?.liveness)}
                />
                <ShareSnapshotButton workerId={workerId} />
              </span>
            </>
          }
          eventsLink={`/events?worker=${encodeURIComponent(workerId)}`}
          sessionAction={(view) => {
            const sessionId = view.session?.sessionId ?? "";
            // Already being cancelled: say so instead of offering a second cancel.
            if (view.session?.state === SessionState.CANCELLING)
              return <span className="sub">cancelling…</span>;
            return (
              <ActionButton
                small
                label="Cancel"
                kind="cancelSession"
                workerId={workerId}
                sessionId={sessionId}
                unavailable={ended}
                consequence={`Cancel session ${sessionId}: user code is asked to stop; if it does not yield within the grace period its thread is terminated. The engine gets an error, then CancelResponse.`}
              />
            );
          }}
        />
      )}
    </section>
  );
}
