import { useId, useState } from "react";
import type { ActionKindName } from "../api/use-action";
import { useWhoAmI } from "../api/use-who-am-i";
import { ActionDialog } from "./action-dialog";
import { useActionHost } from "./action-host";

/**
 * A button that opens the confirmation for an action; disabled for viewers,
 * or when the target's state makes the action meaningless (`unavailable`),
 * with the reason next to it (not only in a tooltip). The dialog lives in
 * the page's ActionHost when there is one, so it survives this button.
 */
export function ActionButton(props: {
  label: string;
  kind: ActionKindName;
  workerId: string;
  sessionId?: string;
  consequence: string;
  small?: boolean;
  /** Why the action cannot apply now (e.g. "the worker has exited"); disables the button. */
  unavailable?: string | undefined;
}) {
  const { isOperator, reason } = useWhoAmI();
  const host = useActionHost();
  const [open, setOpen] = useState(false);
  const hint = useId();
  const why = !isOperator ? `Actions need the operator role: ${reason}` : props.unavailable;
  const request = {
    kind: props.kind,
    workerId: props.workerId,
    ...(props.sessionId ? { sessionId: props.sessionId } : {}),
    consequence: props.consequence,
  };
  return (
    <>
      <button
        type="button"
        className={props.small ? "danger small" : "danger"}
        disabled={why !== undefined}
        aria-describedby={why ? hint : undefined}
        title={why ?? props.consequence}
        onClick={() => (host ? host(request) : setOpen(true))}
      >
        {props.label}
      </button>
      {why && (
        <span id={hint} className={props.small ? "visually-hidden" : "sub viewer-hint"}>
          {why}
        </span>
      )}
      {open && !host && <ActionDialog {...request} onClose={() => setOpen(false)} />}
    </>
  );
}
