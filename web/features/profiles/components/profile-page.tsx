import { Link, useParams } from "react-router";
import { ActionStatus } from "../../../../gen/stallwatch/v1/control_pb";
import { clip } from "../../../shared/format";
import { ConnectionIndicator } from "../../../shared/connection-indicator";
import { ShareSnapshotButton } from "../../share-snapshot/index";
import { useProfile } from "../api/use-profile";
import { MODE_WORDS, ProfileResultView } from "./profile-result-view";

/**
 * One profile at its own URL (`/workers/:workerId/profiles/:profileId`):
 * progress while it samples, then the result. Followed by WatchProfile, so
 * a reload or a shared link shows it too while the gateway keeps it.
 */
export function ProfilePage() {
  const { workerId = "", profileId = "" } = useParams();
  const { data, fatal, status, lastMessageAtMs } = useProfile(profileId);
  const profile = data.profile;
  const workerLink = `/workers/${encodeURIComponent(workerId)}`;
  if (fatal) {
    return (
      <section className="problem" aria-labelledby="profile-title">
        <h1 id="profile-title">Profile {clip(profileId, 100)}</h1>
        <p role="alert">
          {fatal.rawMessage}. The gateway keeps the last 100 profiles in memory; a snapshot taken
          after a profile keeps it for good. <Link to={workerLink}>Back to the worker</Link>
        </p>
      </section>
    );
  }
  const running = profile?.status === ActionStatus.RUNNING;
  const durationMs = profile?.durationMs ?? 0;
  return (
    <section aria-labelledby="profile-title">
      <Link to={workerLink} className="back">
        ← {clip(workerId, 100)}
      </Link>
      <div className="page-head">
        <h1 id="profile-title">
          Profile of {clip(workerId, 100)}
          {profile?.sessionId ? `, session ${clip(profile.sessionId, 60)}` : ""}
        </h1>
        <ConnectionIndicator status={status} asOfMs={lastMessageAtMs} />
        {profile && !running && <ShareSnapshotButton workerId={profile.workerId} />}
      </div>
      {!profile ? (
        <p className="sub">Loading…</p>
      ) : running ? (
        <div role="status" aria-live="polite" className="profile-progress">
          Sampling ({MODE_WORDS[profile.mode]}, {profile.sourceLabel || "starting"}):{" "}
          {(data.elapsedMs / 1000).toFixed(0)} of {(durationMs / 1000).toFixed(0)} s
          <progress max={durationMs} value={Math.min(data.elapsedMs, durationMs)} />
        </div>
      ) : (
        <>
          <p className="sub">
            {profile.status === ActionStatus.SUCCEEDED ? "Done" : "Failed"}, started by{" "}
            {clip(profile.actor, 100)}: “{clip(profile.reason, 200)}”.{" "}
            <Link
              to={`/audit?worker=${encodeURIComponent(profile.workerId)}&action=${encodeURIComponent(profile.profileId)}`}
            >
              Audit record
            </Link>
          </p>
          {profile.error && (
            <p role="alert" className="error">
              {clip(profile.error, 1000)}
            </p>
          )}
          <ProfileResultView profile={profile} />
        </>
      )}
    </section>
  );
}
