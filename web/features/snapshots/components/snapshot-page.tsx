import { Code, ConnectError } from "@connectrpc/connect";
import { useMemo, useState } from "react";
import { Link, Navigate, useParams, useSearchParams } from "react-router";
import { formatClock } from "../../../shared/format";
import { snapshotPath } from "../../../shared/snapshot-path";
import {
  findIncident,
  FleetTable,
  IncidentBanner,
  viewFleet,
  type BannerLinks,
} from "../../fleet/index";
import { ProfileResultView } from "../../profiles/index";
import { ThreadDumpView } from "../../thread-dumps/index";
import { WorkerDetailView } from "../../worker-page/index";
import { useSnapshot } from "../api/snapshots";

/** Banner links that stay inside the snapshot: only to its own worker pages. */
function snapshotLinks(id: string): BannerLinks {
  return {
    worker: (workerId) => snapshotPath(id, workerId),
    gone: () => undefined,
    stalled: (incident) =>
      incident.stalledWorkers.length === 1 && incident.stalledWorkers[0]
        ? snapshotPath(id, incident.stalledWorkers[0].id)
        : undefined,
  };
}

/**
 * A snapshot, read-only: the same fleet and worker views from the stored
 * data, "now" frozen at the moment it was taken, under a banner saying so.
 */
export function SnapshotPage() {
  const { snapshotId = "", workerId } = useParams();
  const [params, setParams] = useSearchParams();
  const { data, error, isPending } = useSnapshot(snapshotId, workerId);
  const [filter, setFilter] = useState("");
  const snapshot = data?.snapshot;
  const takenAt = Number(snapshot?.info?.createdAtMs ?? 0n);
  const workers = useMemo(
    () =>
      viewFleet(snapshot?.workers ?? [], {
        text: "",
        kind: undefined,
        liveness: undefined,
        sort: "severity",
      }),
    [snapshot],
  );
  if (isPending) return <p className="sub">Loading snapshot…</p>;
  if (error) {
    const notFound = ConnectError.from(error).code === Code.NotFound;
    return (
      <section className="problem" aria-labelledby="snap-missing">
        <h1 id="snap-missing">{notFound ? "Snapshot not found" : "Could not load the snapshot"}</h1>
        <p role="alert">
          {notFound
            ? "This snapshot does not exist or has expired (snapshots are kept for 30 days by default)."
            : `${ConnectError.from(error).rawMessage}. Reload the page to try again.`}
        </p>
        <p>
          <Link to="/snapshots">Recent snapshots</Link> · <Link to="/">Live fleet</Link>
        </p>
      </section>
    );
  }
  if (!snapshot?.info) return null;
  const info = snapshot.info;
  const base = `/snapshots/${snapshotId}`;
  // A worker's snapshot is that worker's page, never a one-row fleet.
  if (!workerId && info.workerId)
    return <Navigate to={snapshotPath(snapshotId, info.workerId)} replace />;
  const detail = workerId ? snapshot.details.find((d) => d.worker?.id === workerId) : undefined;
  return (
    <section aria-labelledby="snapshot-banner">
      <div className="banner snapshot-banner" id="snapshot-banner" role="note">
        Snapshot taken {new Date(takenAt).toLocaleString()} by {info.createdBy} of{" "}
        {info.workerId ? `worker ${info.workerId}` : `the fleet (${info.workerCount} workers)`}
        {info.note ? ` — “${info.note}”` : ""}. Read-only: every link below stays in this snapshot.{" "}
        <Link to="/">Leave it for the live fleet</Link>
      </div>
      {workerId && detail ? (
        <>
          {!info.workerId && (
            <Link to={base} className="back">
              ← Snapshot fleet
            </Link>
          )}
          <WorkerDetailView
            detail={detail}
            nowMs={takenAt}
            windowMinutes={15}
            threadLink={(sessionId) =>
              `${base}/workers/${encodeURIComponent(workerId)}?session=${encodeURIComponent(sessionId)}#threads`
            }
            headerExtra={<span className="sub">as of {formatClock(takenAt)}</span>}
          />
          <section aria-labelledby="snap-threads" id="threads">
            <h2 id="snap-threads">Thread dump</h2>
            {detail.latestDump ? (
              <ThreadDumpView
                current={detail.latestDump}
                nowMs={takenAt}
                filter={filter}
                onFilter={setFilter}
                showRaw={params.get("raw") === "1"}
                onShowRaw={(raw) => setParams(raw ? { raw: "1" } : {}, { replace: true })}
                sessionId={params.get("session") ?? undefined}
              />
            ) : (
              <p className="sub">No thread dump was available for this worker.</p>
            )}
          </section>
          {snapshot.profiles
            .filter((p) => p.workerId === workerId && p.result)
            .map((p) => (
              // The worker's latest profile when the snapshot was taken, read-only.
              <section key={p.profileId} aria-labelledby={`snap-profile-${p.profileId}`}>
                <h2 id={`snap-profile-${p.profileId}`}>
                  Profile, {formatClock(Number(p.endedAtMs))}
                </h2>
                <p className="sub">
                  Started by {p.actor}: “{p.reason}”.
                </p>
                <ProfileResultView profile={p} />
              </section>
            ))}
        </>
      ) : workerId ? (
        <p role="alert">
          Worker {workerId} is not in this snapshot. <Link to={base}>Back to the snapshot</Link>
        </p>
      ) : (
        <>
          <div className="page-head">
            <h1>Fleet</h1>
            <span className="sub">
              {snapshot.workers.length} workers, as of {formatClock(takenAt)}
            </span>
          </div>
          <IncidentBanner
            incident={findIncident(snapshot.workers)}
            nowMs={takenAt}
            links={snapshotLinks(snapshotId)}
          />
          <FleetTable
            workers={workers}
            nowMs={takenAt}
            sort="severity"
            onSort={() => undefined}
            linkBase={`${base}/workers/`}
          />
          {snapshot.profiles.length > 0 && (
            <p className="sub">
              Profiles kept:{" "}
              {snapshot.profiles.map((p, i) => (
                <span key={p.profileId}>
                  {i > 0 && ", "}
                  <Link to={snapshotPath(snapshotId, p.workerId)}>{p.workerId}</Link>
                </span>
              ))}
            </p>
          )}
        </>
      )}
    </section>
  );
}
