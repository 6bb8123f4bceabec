// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { createRouterTransport } from "@connectrpc/connect";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it } from "vitest";
import { ActionKind, ControlService, Role } from "../../../../gen/stallwatch/v1/control_pb";
import {
  DryRunOverrideSchema,
  PolicyDecisionSchema,
  PolicyMode,
  PolicyOutcome,
  PolicySchema,
  PolicyService,
  type DryRunOverride,
  type SetDryRunOverrideRequest,
} from "../../../../gen/stallwatch/v1/policy_pb";
import { TransportProvider } from "../../../shared/transport-context";
import { whoAmIAs } from "../../../shared/testing/who-am-i";
import { PoliciesPage } from "./policies-page";

afterEach(cleanup);

const hungReads = (effectiveMode: PolicyMode) =>
  create(PolicySchema, {
    name: "hung-reads",
    configuredMode: PolicyMode.ENFORCE,
    effectiveMode,
    action: ActionKind.CANCEL_SESSION,
    summary: "cancel a session processing for ≥ 10 min with no progress for ≥ 10 min",
    maxActions: 3,
    windowMs: 600_000n,
    counts: { matches: 4n, acted: 3n, skippedCap: 1n, actionsInWindow: 3 },
  });

const decisions = [
  create(PolicyDecisionSchema, {
    decisionId: "d-2",
    policy: "hung-reads",
    mode: PolicyMode.ENFORCE,
    outcome: PolicyOutcome.SKIPPED_CAP,
    workerId: "w-9",
    sessionId: "s-4",
    detail: "3 actions in the last 10 min (cap 3)",
    evidence: "processing for 11 min; no progress for 11 min",
  }),
  create(PolicyDecisionSchema, {
    decisionId: "d-1",
    policy: "hung-reads",
    mode: PolicyMode.ENFORCE,
    outcome: PolicyOutcome.ACTED,
    workerId: "w-1",
    sessionId: "s-7",
    evidence: "thread udf-1 not moving for 12 min at recv_into (socket.py:706)",
    evidenceSnapshotId: "snap-1",
    actionId: "policy-act-1",
  }),
];

/** A gateway with one policy whose switch flips as SetDryRunOverride is called. */
function gateway(role: Role) {
  const calls: SetDryRunOverrideRequest[] = [];
  const decisionFilters: string[] = [];
  let override: DryRunOverride = create(DryRunOverrideSchema, { on: false });
  const transport = createRouterTransport(({ service }) => {
    service(ControlService, { whoAmI: whoAmIAs(role) });
    service(PolicyService, {
      listPolicies: () => ({
        policies: [hungReads(override.on ? PolicyMode.DRY_RUN : PolicyMode.ENFORCE)],
        dryRunOverride: override,
        source: "--policy-file /etc/stallwatch/policies.yaml",
      }),
      listPolicyDecisions: (req) => {
        decisionFilters.push(req.policy);
        return { decisions: decisions.filter((d) => !req.policy || d.policy === req.policy) };
      },
      setDryRunOverride: (req) => {
        calls.push(req);
        override = create(DryRunOverrideSchema, {
          on: req.on,
          reason: req.reason,
          actor: "alice",
          atMs: BigInt(Date.now()),
        });
        return { dryRunOverride: override };
      },
    });
  });
  return { transport, calls, decisionFilters };
}

function renderPage(role: Role, url = "/policies") {
  const gw = gateway(role);
  render(
    <TransportProvider transport={gw.transport}>
      <QueryClientProvider client={new QueryClient()}>
        <MemoryRouter initialEntries={[url]}>
          <PoliciesPage />
        </MemoryRouter>
      </QueryClientProvider>
    </TransportProvider>,
  );
  return gw;
}

/** The table row holding `el`; fails the test when there is none. */
function rowOf(el: Element | null | undefined): Element {
  const row = el?.closest("tr");
  if (!row) throw new Error("no table row");
  return row;
}

describe("PoliciesPage", () => {
  it("shows each policy's mode, counts and cap, and each decision with its evidence and action", async () => {
    renderPage(Role.VIEWER);
    const [link] = await screen.findAllByRole("link", { name: "hung-reads" });
    const row = rowOf(link);
    expect(row.textContent).toContain("enforce");
    expect(row.textContent).toContain("cancel session");
    expect(row.textContent).toContain("cap reached");
    expect(row.textContent).toContain("3 of 3 in the last 10 min");
    expect(screen.getByText("From --policy-file /etc/stallwatch/policies.yaml")).toBeTruthy();

    const acted = rowOf(document.querySelector('[data-decision-id="d-1"]'));
    expect(acted.textContent).toContain("acted");
    expect(acted.textContent).toContain("recv_into (socket.py:706)");
    const links = Array.from(acted.querySelectorAll("a")).map((a) => a.getAttribute("href"));
    expect(links).toContain("/snapshots/snap-1/workers/w-1");
    expect(links).toContain("/audit?worker=w-1&action=policy-act-1");
    const skipped = rowOf(document.querySelector('[data-decision-id="d-2"]'));
    expect(skipped.textContent).toContain("skipped: cap reached");
    expect(skipped.textContent).toContain("(cap 3)");
  });

  it("asks for one policy's decisions when the URL names it", async () => {
    const gw = renderPage(Role.VIEWER, "/policies?policy=hung-reads");
    await screen.findByText(/Decisions of hung-reads/);
    await waitFor(() => expect(gw.decisionFilters).toContain("hung-reads"));
    expect(gw.decisionFilters).not.toContain("");
  });

  it("lets an operator hold every policy in dry run, with a reason, and shows the gateway's answer", async () => {
    const gw = renderPage(Role.OPERATOR);
    const hold = await screen.findByRole("button", { name: "Hold all policies in dry run" });
    await waitFor(() => expect((hold as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(hold);
    const confirm = screen.getByRole("button", { name: "Hold in dry run now" });
    expect((confirm as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(screen.getByLabelText(/Reason/), { target: { value: "INC-2240" } });
    fireEvent.click(confirm);
    await screen.findByText("every policy is held in dry run.");
    expect(gw.calls).toEqual([expect.objectContaining({ on: true, reason: "INC-2240" })]);
    // The list refetched: the effective mode and the banner are the gateway's.
    await screen.findByText(/Every policy is held in dry run/);
    await screen.findByText("dry-run (configured: enforce)");
    expect(
      screen.getByRole("button", { name: "Return policies to their configured modes" }),
    ).toBeTruthy();
  });

  it("keeps the switch from viewers and says why", async () => {
    renderPage(Role.VIEWER);
    const hold = await screen.findByRole("button", { name: "Hold all policies in dry run" });
    await waitFor(() => expect(hold.getAttribute("title")).toBe("no operator token sent"));
    expect((hold as HTMLButtonElement).disabled).toBe(true);
  });
});
