// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { ActionKind, ActionStatus, Role } from "../../../../gen/stallwatch/v1/control_pb";
import { actionAnswer, renderWithControl } from "../../../shared/testing/control-service";
import { ActionButton } from "./action-button";

afterEach(cleanup);

function renderWith(role: Role, seen: string[] = []) {
  renderWithControl(
    <ActionButton
      label="Drain"
      kind="drainWorker"
      workerId="w-1"
      consequence="Drain lets 2 sessions finish, then the worker exits."
    />,
    role,
    {
      drainWorker: (req) => {
        seen.push(req.reason);
        return actionAnswer(req.actionId, {
          kind: ActionKind.DRAIN_WORKER,
          status: ActionStatus.SUCCEEDED,
          outcome: "drained: 2 sessions finished in 3 s, worker exited",
        });
      },
    },
  );
}

describe("ActionButton", () => {
  it("is disabled for viewers, saying why", async () => {
    renderWith(Role.VIEWER);
    await screen.findByText(/Actions need the operator role: no operator token sent/);
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Drain" }).disabled).toBe(true);
  });

  it("confirms what will happen, requires a reason, then shows the outcome", async () => {
    const seen: string[] = [];
    renderWith(Role.OPERATOR, seen);
    const button = screen.getByRole<HTMLButtonElement>("button", { name: "Drain" });
    await waitFor(() => expect(button.disabled).toBe(false));
    fireEvent.click(button);
    expect(screen.getByText("Drain lets 2 sessions finish, then the worker exits.")).toBeTruthy();
    const confirm = screen.getByRole("button", { name: "Drain worker now" });
    expect((confirm as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(screen.getByLabelText(/Reason/), { target: { value: "rolling restart" } });
    fireEvent.click(confirm);
    const outcome = await screen.findByRole("status");
    expect(outcome.textContent).toContain("drained: 2 sessions finished in 3 s, worker exited");
    // The class follows the status key (issue 12), not the word shown.
    expect(outcome.className).toBe("action-outcome status-succeeded");
    expect(seen).toEqual(["rolling restart"]);
    expect(screen.getByRole("link", { name: "Audit record" }).getAttribute("href")).toMatch(
      /^\/audit\?worker=w-1&action=ui-/,
    );
  });
});
