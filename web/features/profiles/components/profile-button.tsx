import { useId, useState } from "react";
import { useNavigate } from "react-router";
import { ProfileMode } from "../../../../gen/stallwatch/v1/agent_pb";
import { clip } from "../../../shared/format";
import { ReasonField } from "../../../shared/reason-field";
import { useModalDialog } from "../../../shared/use-modal-dialog";
import { useWhoAmI } from "../../actions/index";
import { useStartProfile } from "../api/use-profile";

/** docs/profiles.md: 10 s unless asked, 60 s at most. */
const DEFAULT_SECONDS = 10;
const MAX_SECONDS = 60;

export interface ProfileButtonProps {
  workerId: string;
  /** The worker's live sessions, to profile one session's thread only. */
  sessionIds: string[];
  /** Why no profile can be taken now (e.g. "the worker is gone"); disables the button. */
  unavailable?: string | undefined;
}

/**
 * "Profile": operators choose wall-clock or CPU mode, a duration (10 s by
 * default, at most 60 s), the whole worker or one session's thread, and a
 * reason (audited); the profile then runs at its own URL. Disabled for
 * viewers, with the reason beside it.
 */
export function ProfileButton({ workerId, sessionIds, unavailable }: ProfileButtonProps) {
  const { isOperator, reason } = useWhoAmI();
  const [open, setOpen] = useState(false);
  const hint = useId();
  const why = !isOperator ? `Profiles need the operator role: ${reason}` : unavailable;
  return (
    <>
      <button
        type="button"
        disabled={why !== undefined}
        aria-describedby={why ? hint : undefined}
        title={why ?? "Sample where this worker's threads spend their time"}
        onClick={() => setOpen(true)}
      >
        Profile
      </button>
      {why && (
        <span id={hint} className="visually-hidden">
          {why}
        </span>
      )}
      {open && (
        <ProfileDialog workerId={workerId} sessionIds={sessionIds} onClose={() => setOpen(false)} />
      )}
    </>
  );
}

function ProfileDialog({
  workerId,
  sessionIds,
  onClose,
}: {
  workerId: string;
  sessionIds: string[];
  onClose: () => void;
}) {
  const { ref, close } = useModalDialog(onClose);
  const navigate = useNavigate();
  const { start, pending, error } = useStartProfile();
  const [mode, setMode] = useState<ProfileMode>(ProfileMode.WALL);
  const [seconds, setSeconds] = useState(String(DEFAULT_SECONDS));
  const [sessionId, setSessionId] = useState("");
  const [why, setWhy] = useState("");
  const n = Number(seconds);
  const durationProblem =
    !Number.isInteger(n) || n < 1 || n > MAX_SECONDS
      ? `a whole number of seconds from 1 to ${MAX_SECONDS}`
      : undefined;
  const submit = (e: React.SyntheticEvent) => {
    e.preventDefault();
    if (durationProblem || !why.trim()) return;
    start(
      { workerId, sessionId, mode, durationMs: n * 1000, reason: why.trim() },
      (profileId) =>
        void navigate(
          `/workers/${encodeURIComponent(workerId)}/profiles/${encodeURIComponent(profileId)}`,
        ),
    );
  };
  return (
    <dialog
      ref={ref}
      className="action-dialog"
      aria-labelledby="profile-dialog-title"
      onClose={onClose}
    >
      <form onSubmit={submit}>
        <h2 id="profile-dialog-title">Profile {clip(workerId, 80)}</h2>
        <p className="consequence">
          Samples the worker&apos;s stacks for a while. It costs the worker some CPU, is recorded in
          the audit log, and only one runs per worker at a time.
        </p>
        <fieldset>
          <legend>Mode</legend>
          <label>
            <input
              type="radio"
              name="profile-mode"
              checked={mode === ProfileMode.WALL}
              onChange={() => setMode(ProfileMode.WALL)}
            />{" "}
            Wall-clock: every sample counts, so a blocked thread shows where it waits
          </label>
          <label>
            <input
              type="radio"
              name="profile-mode"
              checked={mode === ProfileMode.CPU}
              onChange={() => setMode(ProfileMode.CPU)}
            />{" "}
            CPU: only samples taken while the thread ran
          </label>
        </fieldset>
        <label htmlFor="profile-seconds">Duration (seconds, at most {MAX_SECONDS})</label>
        <input
          id="profile-seconds"
          type="number"
          min={1}
          max={MAX_SECONDS}
          step={1}
          value={seconds}
          onChange={(e) => setSeconds(e.target.value)}
          aria-invalid={durationProblem !== undefined}
        />
        {durationProblem && <p className="error">The duration must be {durationProblem}.</p>}
        <label htmlFor="profile-scope">What to sample</label>
        <select id="profile-scope" value={sessionId} onChange={(e) => setSessionId(e.target.value)}>
          <option value="">The whole worker (every UDF thread)</option>
          {sessionIds.map((id) => (
            <option key={id} value={id}>
              Session {clip(id, 80)}&apos;s thread
            </option>
          ))}
        </select>
        <ReasonField
          id="profile-reason"
          rows={2}
          value={why}
          onChange={setWhy}
          placeholder="e.g. batch 4 takes 10x longer than usual, INC-2231"
        />
        {error && (
          <p role="alert" className="error">
            {error.rawMessage}
          </p>
        )}
        <div className="dialog-buttons">
          <button type="submit" disabled={pending || durationProblem !== undefined || !why.trim()}>
            {pending ? "Starting…" : "Start profile"}
          </button>
          <button type="button" onClick={close}>
            Close
          </button>
        </div>
      </form>
    </dialog>
  );
}
