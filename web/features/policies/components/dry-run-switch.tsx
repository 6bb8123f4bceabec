import { useState } from "react";
import type { DryRunOverride } from "../../../../gen/stallwatch/v1/policy_pb";
import { ReasonField } from "../../../shared/reason-field";
import { useModalDialog } from "../../../shared/use-modal-dialog";
import { useWhoAmI } from "../../actions/index";
import { useDryRunSwitch } from "../api/use-dry-run-switch";

/**
 * The one switch that holds every policy in dry run (and releases it).
 * Confirmed with a reason, like an action: it changes what the gateways may
 * do to the fleet, so it is audited, and viewers see why they cannot flip it.
 */
export function DryRunSwitch({ override }: { override: DryRunOverride | undefined }) {
  const { isOperator, reason: viewerReason } = useWhoAmI();
  const [open, setOpen] = useState(false);
  const holding = override?.on === true;
  return (
    <>
      <button
        type="button"
        className={holding ? undefined : "danger"}
        disabled={!isOperator}
        title={isOperator ? undefined : viewerReason}
        onClick={() => setOpen(true)}
      >
        {holding ? "Return policies to their configured modes" : "Hold all policies in dry run"}
      </button>
      {open && <SwitchDialog turnOn={!holding} onClose={() => setOpen(false)} />}
    </>
  );
}

function SwitchDialog({ turnOn, onClose }: { turnOn: boolean; onClose: () => void }) {
  const { ref, close } = useModalDialog(onClose);
  const [reason, setReason] = useState("");
  const { set, pending, done, error } = useDryRunSwitch();
  return (
    <dialog ref={ref} className="action-dialog" aria-labelledby="switch-title" onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (reason.trim()) set({ on: turnOn, reason: reason.trim() });
        }}
      >
        <h2 id="switch-title">
          {turnOn ? "Hold all policies in dry run" : "Return policies to their configured modes"}
        </h2>
        <p className="consequence">
          {turnOn
            ? "Every policy stops acting and only records what it would have done, on every gateway, until this is switched back. It survives restarts."
            : "Policies configured as enforce act again on their next match, within their caps."}
        </p>
        {!done && (
          <ReasonField
            id="switch-reason"
            value={reason}
            onChange={setReason}
            placeholder="e.g. policy cancelled healthy sessions, INC-2240"
          />
        )}
        {done && (
          <div role="status" className="action-outcome status-succeeded">
            <strong>Done:</strong>{" "}
            {done.on
              ? "every policy is held in dry run."
              : "policies are back to their configured modes."}
          </div>
        )}
        {error && (
          <p role="alert" className="error">
            {error.rawMessage} — check the reason and your access, then try again.
          </p>
        )}
        <div className="dialog-buttons">
          {!done && (
            <button type="submit" className="danger" disabled={pending || !reason.trim()}>
              {pending
                ? "Sending…"
                : turnOn
                  ? "Hold in dry run now"
                  : "Return to configured modes now"}
            </button>
          )}
          <button type="button" onClick={close}>
            Close
          </button>
        </div>
      </form>
    </dialog>
  );
}
