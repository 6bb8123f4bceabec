// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { createRouterTransport } from "@connectrpc/connect";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it } from "vitest";
import {
  ActionKind,
  ActionSchema,
  ActionStatus,
  ControlService,
  Role,
} from "../../../../gen/stallwatch/v1/control_pb";
import { TransportProvider } from "../../../shared/transport-context";
import { whoAmIAs } from "../../../shared/testing/who-am-i";
import { ActionButton } from "./action-button";

afterEach(cleanup);

function renderWith(role: Role, seen: string[] = []) {
  const transport = createRouterTransport(({ service }) => {
    service(ControlService, {
      whoAmI: whoAmIAs(role),
      drainWorker: (req) => {
        seen.push(req.reason);
        return {
          action: create(ActionSchema, {
            actionId: req.actionId,
            kind: ActionKind.DRAIN_WORKER,
            status: ActionStatus.SUCCEEDED,
            outcome: "drained: 2 sessions finished in 3 s, worker exited",
          }),
        };
      },
    });
  });
  render(
    <TransportProvider transport={transport}>
      <QueryClientProvider client={new QueryClient()}>
        <MemoryRouter>
          <ActionButton
            label="Drain"
            kind="drainWorker"
            workerId="w-1"
            consequence="Drain lets 2 sessions finish, then the worker exits."
          />
        </MemoryRouter>
      </QueryClientProvider>
    </TransportProvider>,
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
