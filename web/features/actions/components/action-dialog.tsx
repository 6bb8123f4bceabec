import { useState } from "react";
import { Link } from "react-router";
import { ActionStatus } from "../../../../gen/stallwatch/v1/control_pb";
import { ReasonField } from "../../../shared/reason-field";
import { stateKey } from "../../../shared/state-key";
import { useModalDialog } from "../../../shared/use-modal-dialog";
import { useAction, type ActionKindName } from "../api/use-action";

const TITLES: Record<ActionKindName, string> = {
  cancelSession: "Cancel session",
  drainWorker: "Drain worker",
  cancelWorker: "Cancel worker",
};

export interface ActionDialogProps {
  kind: ActionKindName;
  workerId: string;
  sessionId?: string;
  /** Exactly what will happen, in words ("Drain lets 3 sessions finish, then the worker exits."). */
  consequence: string;
  onClose: () => void;
}

/**
 * Confirm, give a reason, then watch it happen: the dialog stays open with
 * the action's progress and outcome, and links to its audit record.
 */
export function ActionDialog({
  kind,
  workerId,
  sessionId,
  consequence,
  onClose,
}: ActionDialogProps) {
  const { ref, close } = useModalDialog(onClose);
  const [reason, setReason] = useState("");
  // What the operator confirmed; live counts must not rewrite it while the action runs
  // (the host already keeps the text the dialog opened with).
  const [confirmed, setConfirmed] = useState<string | undefined>(undefined);
  const { action, error, pending, start } = useAction();
  const done = action !== undefined && action.status !== ActionStatus.RUNNING;
  const submit = (e: React.SyntheticEvent) => {
    e.preventDefault();
    if (!reason.trim()) return;
    setConfirmed(consequence);
    start({ kind, workerId, ...(sessionId ? { sessionId } : {}), reason: reason.trim() });
  };
  return (
    <dialog ref={ref} className="action-dialog" aria-labelledby="action-title" onClose={onClose}>
      <form onSubmit={submit}>
        <h2 id="action-title">{TITLES[kind]}</h2>
        {confirmed === undefined ? (
          <p className="consequence">{consequence}</p>
        ) : (
          // Once sent, the plan is a record of what was confirmed, never a
          // promise still pending: after the drain it read as if it had not
          // started (issue 19.3). The outcome below says what happened.
          <p className="consequence">
            <span className="sub">You confirmed:</span> {confirmed}
          </p>
        )}
        {!action && (
          <ReasonField
            id="action-reason"
            value={reason}
            onChange={setReason}
            placeholder="e.g. stuck in recv_into for 12 minutes, INC-2231"
          />
        )}
        {action && (
          <div
            role="status"
            aria-live="polite"
            className={`action-outcome status-${stateKey(ActionStatus, action.status)}`}
          >
            <strong>
              {action.status === ActionStatus.RUNNING
                ? "In progress"
                : action.status === ActionStatus.SUCCEEDED
                  ? "Done"
                  : "Failed"}
              :
            </strong>{" "}
            {action.outcome}
            {action.sessionsAtStart > 0 && action.status === ActionStatus.RUNNING && (
              <progress
                max={action.sessionsAtStart}
                value={action.sessionsAtStart - action.sessionsRemaining}
              />
            )}
            <div>
              <Link
                to={`/audit?worker=${encodeURIComponent(workerId)}&action=${encodeURIComponent(action.actionId)}`}
              >
                Audit record
              </Link>
            </div>
          </div>
        )}
        {error && (
          <p role="alert" className="error">
            {error.rawMessage} — check the reason and your access, then try again.
          </p>
        )}
        <div className="dialog-buttons">
          {!action && (
            <button type="submit" className="danger" disabled={pending || !reason.trim()}>
              {pending ? "Sending…" : `${TITLES[kind]} now`}
            </button>
          )}
          <button type="button" onClick={close}>
            {done || !action ? "Close" : "Close (keeps running)"}
          </button>
        </div>
      </form>
    </dialog>
  );
}
