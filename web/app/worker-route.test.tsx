// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { createRouterTransport } from "@connectrpc/connect";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { SessionState } from "../../gen/stallwatch/v1/agent_pb";
import {
  ActionKind,
  ActionSchema,
  ActionStatus,
  ControlService,
  Role,
} from "../../gen/stallwatch/v1/control_pb";
import {
  FleetService,
  Liveness,
  WorkerDetailSchema,
  type SessionView,
  WorkerKind,
  type Worker,
} from "../../gen/stallwatch/v1/fleet_pb";
import { App } from "./app";
import { fixtureWorker } from "../shared/testing/fixtures";
import { giveElementsAScreenSizedBox } from "../shared/testing/jsdom-layout";

afterEach(cleanup);
giveElementsAScreenSizedBox();
// A worker view asks for the charts' code as it loads (issue 19.4). Here that
// is Vite transforming recharts, once, for seconds on a busy machine: done
// before the tests, so no test's wait for the page pays it.
beforeAll(async () => {
  await (await import("../features/worker-page/preload")).preloadCharts();
}, 60_000);

const hung = (state = SessionState.PROCESSING) =>
  ({
    workerId: "w-1",
    session: { sessionId: "s-hang", state, udfName: "hang", threadId: "udf-2" },
    stalled: true,
    stallReason: "in PROCESSING for 92 s",
  }) as unknown as SessionView;

function detail(worker: Worker, sessions: SessionView[]) {
  return create(WorkerDetailSchema, { worker, sessions });
}

const tick = () => new Promise((r) => setTimeout(r, 20));

/**
 * A worker page against an in-memory gateway. `sessionsFor(step)` is what
 * the worker stream says at each step (a message every 20 ms).
 */
function renderWorker(opts: {
  worker?: Worker;
  sessionsFor: (step: number) => SessionView[];
  cancelGate?: Promise<void>;
}) {
  const worker = opts.worker ?? fixtureWorker("w-1");
  const transport = createRouterTransport(({ service }) => {
    service(FleetService, {
      async *watchWorker(_req, ctx) {
        for (let step = 0; !ctx.signal.aborted; step++) {
          yield { detail: detail(worker, opts.sessionsFor(step)), asOfMs: BigInt(Date.now()) };
          await tick();
        }
      },
    });
    service(ControlService, {
      whoAmI: () => ({ role: Role.OPERATOR, actor: "operator (token)" }),
      cancelSession: (req) => ({
        action: create(ActionSchema, {
          actionId: req.actionId,
          kind: ActionKind.CANCEL_SESSION,
          workerId: req.workerId,
          sessionId: req.sessionId,
          status: ActionStatus.RUNNING,
          outcome: "asking user code to stop",
        }),
      }),
      async *watchAction(req) {
        await opts.cancelGate;
        yield {
          action: create(ActionSchema, {
            actionId: req.actionId,
            kind: ActionKind.CANCEL_SESSION,
            status: ActionStatus.SUCCEEDED,
            outcome: "cancel escalated: thread terminated after 2 s",
          }),
        };
      },
    });
  });
  render(<App transport={transport} initialPath="/workers/w-1" />);
}

describe("WorkerPage (issue 11)", () => {
  it("bug 1: keeps the cancel outcome after the session's row is gone, linked to its audit record", async () => {
    let cancelled = false;
    let release: () => void = () => undefined;
    const cancelGate = new Promise<void>((r) => (release = r));
    renderWorker({ sessionsFor: () => (cancelled ? [] : [hung()]), cancelGate });
    // A bound for the first page of the file on a busy machine, not a timing claim.
    const row = await screen.findByRole("row", { name: /s-hang/ }, { timeout: 10_000 });
    const cancel = within(row).getByRole<HTMLButtonElement>("button", { name: "Cancel" });
    await waitFor(() => expect(cancel.disabled).toBe(false));
    fireEvent.click(cancel);
    fireEvent.change(screen.getByLabelText(/Reason/), { target: { value: "stuck" } });
    fireEvent.click(screen.getByRole("button", { name: "Cancel session now" }));
    await screen.findByText(/asking user code to stop/);
    // The worker reports the session gone before the outcome arrives.
    cancelled = true;
    await waitFor(() => expect(screen.queryByRole("row", { name: /s-hang/ })).toBeNull());
    release();
    await waitFor(() =>
      expect(screen.getByRole("dialog").textContent).toContain(
        "Done: cancel escalated: thread terminated after 2 s",
      ),
    );
    // Still there a while later, until dismissed.
    await new Promise((r) => setTimeout(r, 300));
    const dialog = screen.getByRole("dialog");
    expect(dialog.textContent).toContain("cancel escalated");
    expect(within(dialog).getByRole("link", { name: "Audit record" }).getAttribute("href")).toMatch(
      /^\/audit\?worker=w-1&action=ui-/,
    );
    fireEvent.click(within(dialog).getByRole("button", { name: "Close" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
  });

  it("bug 5: disables Drain and Cancel all on an exited worker, saying why", async () => {
    renderWorker({
      worker: fixtureWorker("w-1", { liveness: Liveness.EXITED }),
      sessionsFor: () => [],
    });
    await screen.findByRole("heading", { name: "w-1" }, { timeout: 10_000 });
    await screen.findAllByText("the worker has exited");
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Drain" }).disabled).toBe(true);
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Cancel all" }).disabled).toBe(
      true,
    );
  });

  it("bug 5: a Beam harness offers no Drain, Cancel all or Cancel (nothing can reach it)", async () => {
    renderWorker({
      worker: fixtureWorker("w-1", { kind: WorkerKind.BEAM }),
      sessionsFor: () => [hung()],
    });
    const row = await screen.findByRole("row", { name: /s-hang/ });
    for (const name of ["Drain", "Cancel all"])
      expect(screen.getByRole<HTMLButtonElement>("button", { name }).disabled).toBe(true);
    expect(within(row).getByRole<HTMLButtonElement>("button", { name: "Cancel" }).disabled).toBe(
      true,
    );
    expect(screen.getAllByText(/no control endpoint/).length).toBeGreaterThan(0);
  });

  it("bug 5: a session already cancelling offers no second Cancel", async () => {
    renderWorker({ sessionsFor: () => [hung(SessionState.CANCELLING)] });
    const row = await screen.findByRole("row", { name: /s-hang/ });
    expect(within(row).queryByRole("button", { name: "Cancel" })).toBeNull();
    expect(within(row).getByText("cancelling…")).toBeTruthy();
  });

  it("bug 5: the drain dialog's consequence stays as confirmed while the count changes", async () => {
    const sessions = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        ...hung(),
        session: { sessionId: `s-${i}`, state: SessionState.PROCESSING, udfName: "echo" },
        stalled: false,
      })) as unknown as SessionView[];
    renderWorker({
      worker: fixtureWorker("w-1", { metrics: { active_sessions: "3" } }),
      sessionsFor: (step) => sessions(Math.max(0, 3 - step)),
    });
    const drain = await screen.findByRole<HTMLButtonElement>("button", { name: "Drain" });
    await waitFor(() => expect(drain.disabled).toBe(false));
    fireEvent.click(drain);
    const dialog = screen.getByRole("dialog");
    const said = dialog.querySelector(".consequence")?.textContent;
    expect(said).toMatch(/^Drain lets 3 sessions finish/);
    await new Promise((r) => setTimeout(r, 150));
    expect(dialog.querySelector(".consequence")?.textContent).toBe(said);
  });
});
