import { useId, useState } from "react";
import type { ActionKindName } from "../api/use-action";
import { useWhoAmI } from "../api/use-who-am-i";
import { ActionDialog } from "./action-dialog";

/**
 * A button that opens the confirmation for an action; disabled for viewers,
 * with the reason next to it (not only in a tooltip).
 */
export function ActionButton(props: {
  label: string;
  kind: ActionKindName;
  workerId: string;
  sessionId?: string;
  consequence: string;
  small?: boolean;
}) {
  const { isOperator, reason } = useWhoAmI();
  const [open, setOpen] = useState(false);
  const hint = useId();
  return (
    <>
      <button
        type="button"
        className={props.small ? "danger small" : "danger"}
        disabled={!isOperator}
        aria-describedby={isOperator ? undefined : hint}
        title={isOperator ? props.consequence : `Viewers cannot act: ${reason}`}
        onClick={() => setOpen(true)}
      >
        {props.label}
      </button>
      {!isOperator && !props.small && (
        <span id={hint} className="sub viewer-hint">
          Actions need the operator role: {reason}
        </span>
      )}
      {!isOperator && props.small && (
        <span id={hint} className="visually-hidden">
          Actions need the operator role: {reason}
        </span>
      )}
      {open && (
        <ActionDialog
          kind={props.kind}
          workerId={props.workerId}
          {...(props.sessionId ? { sessionId: props.sessionId } : {})}
          consequence={props.consequence}
          onClose={() => setOpen(false)}
        />
      )}
    </>
  );
}
