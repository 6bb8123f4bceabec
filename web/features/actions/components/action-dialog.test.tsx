// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { useEffect, useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { ActionKind, ActionStatus, Role } from "../../../../gen/stallwatch/v1/control_pb";
import { actionAnswer, renderWithControl } from "../../../shared/testing/control-service";
import { ActionButton } from "./action-button";
import { ActionHost } from "./action-host";

afterEach(cleanup);

const plan = (n: number) =>
  `Drain lets ${n} session${n === 1 ? "" : "s"} finish, refuses new ones, then the worker exits.`;

/** A worker page's Drain button whose session count falls as the drain lets sessions finish. */
function DrainingWorker({ drained }: { drained: Promise<void> }) {
  const [active, setActive] = useState(2);
  useEffect(() => {
    void drained.then(() => setActive(0));
  }, [drained]);
  return (
    <ActionHost>
      <p>{active} active</p>
      <ActionButton label="Drain" kind="drainWorker" workerId="w-1" consequence={plan(active)} />
    </ActionHost>
  );
}

describe("ActionDialog (issue 19.3)", () => {
  it("after the drain, keeps what the operator confirmed as a record and shows the outcome", async () => {
    let finish: () => void = () => undefined;
    const drained = new Promise<void>((r) => (finish = r));
    renderWithControl(<DrainingWorker drained={drained} />, Role.OPERATOR, {
      drainWorker: (req) =>
        actionAnswer(req.actionId, {
          kind: ActionKind.DRAIN_WORKER,
          status: ActionStatus.RUNNING,
          outcome: "draining: 2 sessions left",
          sessionsAtStart: 2,
          sessionsRemaining: 2,
        }),
      async *watchAction(req) {
        await drained;
        yield actionAnswer(req.actionId, {
          kind: ActionKind.DRAIN_WORKER,
          status: ActionStatus.SUCCEEDED,
          outcome: "drained: 2 sessions finished in 3 s, worker exited",
        });
      },
    });
    const button = screen.getByRole<HTMLButtonElement>("button", { name: "Drain" });
    await waitFor(() => expect(button.disabled).toBe(false));
    fireEvent.click(button);
    const dialog = screen.getByRole("dialog");
    expect(dialog.querySelector(".consequence")?.textContent).toBe(plan(2));
    fireEvent.change(screen.getByLabelText(/Reason/), { target: { value: "rolling restart" } });
    fireEvent.click(screen.getByRole("button", { name: "Drain worker now" }));
    await screen.findByText(/draining: 2 sessions left/);

    finish();
    await screen.findByText("0 active");
    await waitFor(() =>
      expect(screen.getByRole("status").textContent).toContain(
        "Done: drained: 2 sessions finished in 3 s, worker exited",
      ),
    );
    const said = dialog.querySelector(".consequence")?.textContent;
    // Not the plan as a pending promise, and not the plan for the worker as it is now.
    expect(said).toBe(`You confirmed: ${plan(2)}`);
    expect(dialog.textContent).not.toContain(plan(0));
  });
});
