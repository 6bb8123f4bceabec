// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { createRouterTransport } from "@connectrpc/connect";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import type { ReactNode } from "react";
import { MemoryRouter, Route, Routes } from "react-router";
import { afterEach, describe, expect, it } from "vitest";
import { ProfileMode, ProfileResultSchema } from "../../../../gen/stallwatch/v1/agent_pb";
import { ActionStatus, ControlService, Role } from "../../../../gen/stallwatch/v1/control_pb";
import {
  ProfileSchema,
  ProfileService,
  ProfileSource,
  type StartProfileRequest,
} from "../../../../gen/stallwatch/v1/profile_pb";
import { TransportProvider } from "../../../shared/transport-context";
import { whoAmIAs } from "../../../shared/testing/who-am-i";
import { ProfileButton } from "./profile-button";
import { ProfileResultView } from "./profile-result-view";

afterEach(cleanup);

function renderApp(ui: ReactNode, role: Role, started: StartProfileRequest[] = []) {
  const transport = createRouterTransport(({ service }) => {
    service(ControlService, { whoAmI: whoAmIAs(role) });
    service(ProfileService, {
      startProfile: (req) => {
        started.push(req);
        return {
          profile: create(ProfileSchema, {
            profileId: req.profileId,
            workerId: req.workerId,
            status: ActionStatus.RUNNING,
          }),
        };
      },
    });
  });
  return render(
    <TransportProvider transport={transport}>
      <QueryClientProvider client={new QueryClient()}>
        <MemoryRouter initialEntries={["/workers/w-1"]}>
          <Routes>
            <Route path="/workers/:workerId" element={ui} />
            <Route path="/workers/:workerId/profiles/:profileId" element={<p>profile page</p>} />
          </Routes>
        </MemoryRouter>
      </QueryClientProvider>
    </TransportProvider>,
  );
}

const frames = [
  { function: "main", file: "/app/udf-thread.js", line: 120 },
  { function: "process", file: "/app/demo-udfs.js", line: 98 },
  { function: "cancelled", file: "/app/udf-thread.js", line: 55 },
];

const spinning = create(ProfileSchema, {
  profileId: "p1",
  workerId: "w-1",
  status: ActionStatus.SUCCEEDED,
  source: ProfileSource.AGENT,
  sourceLabel: "V8 CPU profiler in the UDF thread, every 1 ms",
  result: create(ProfileResultSchema, {
    mode: ProfileMode.CPU,
    intervalUs: 1000,
    durationMs: 3000,
    frames,
    threads: [
      {
        threadId: "udf-1",
        name: "udf-1",
        samplesTaken: 3000n,
        stacks: [
          { frames: [0, 1], count: 2900n },
          { frames: [0, 1, 2], count: 60n },
          { frames: [0], count: 40n },
        ],
      },
    ],
  }),
});

const idle = create(ProfileSchema, {
  ...spinning,
  result: create(ProfileResultSchema, {
    mode: ProfileMode.CPU,
    intervalUs: 1000,
    durationMs: 2500,
    partial: true,
    partialReason: "agent stream closed: the worker is gone",
    threads: [
      {
        threadId: "udf-2",
        name: "udf-2",
        samplesTaken: 2500n,
        note: "idle: 0 of 2500 samples on CPU (the thread was blocked or waiting)",
      },
    ],
  }),
});

describe("ProfileResultView", () => {
  it("shows py-spy's table with the spinning function on top, sortable by %Total", async () => {
    renderApp(<ProfileResultView profile={spinning} />, Role.VIEWER);
    // The rows are folded in tasks after the first render (sliced.ts), so the table follows.
    expect(screen.getByText("Folding the samples…")).toBeTruthy();
    const table = await screen.findByRole("table");
    expect(table.getAttribute("aria-busy")).toBe("false");
    const firstRow = () => within(table).getAllByRole("row")[1];
    expect(firstRow()?.textContent).toContain("process");
    expect(firstRow()?.textContent).toContain("96.67%");
    fireEvent.click(within(table).getByRole("button", { name: /%Total/ }));
    await waitFor(() => expect(firstRow()?.textContent).toContain("main"));
    // The flame graph's code loads on demand and puts its canvas in place (jsdom cannot
    // draw on it: the drawing is checked in Chromium, e2e/profiles.spec.ts): all, udf-1,
    // main, process, cancelled.
    await waitFor(() =>
      expect(document.querySelector(".flame-host")?.getAttribute("data-ready")).toBe("true"),
    );
    expect(document.querySelector(".flame-host canvas")?.getAttribute("data-rows")).toBe("5");

    expect(screen.getByRole("button", { name: "Export collapsed stacks" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Export speedscope JSON" })).toBeTruthy();
  });

  it("on another thread, keeps the table (busy) until that thread's rows are folded", async () => {
    const twoThreads = create(ProfileSchema, {
      profileId: "p2",
      workerId: "w-1",
      status: ActionStatus.SUCCEEDED,
      result: create(ProfileResultSchema, {
        mode: ProfileMode.WALL,
        intervalUs: 1000,
        durationMs: 1000,
        frames,
        threads: [
          { threadId: "udf-1", name: "udf-1", stacks: [{ frames: [0, 1], count: 9n }] },
          { threadId: "udf-2", name: "udf-2", stacks: [{ frames: [2], count: 1n }] },
        ],
      }),
    });
    renderApp(<ProfileResultView profile={twoThreads} />, Role.VIEWER);
    const rows = () => within(screen.getByRole("table")).getAllByRole("row").slice(1);
    await waitFor(() => expect(rows()).toHaveLength(3));
    fireEvent.change(screen.getByLabelText(/Thread/), { target: { value: "udf-2" } });
    expect(screen.getByRole("table").getAttribute("aria-busy")).toBe("true");
    expect(rows()).toHaveLength(3);
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(rows()[0]?.textContent).toContain("cancelled");
    expect(screen.getByRole("table").getAttribute("aria-busy")).toBe("false");
  });

  it("says an idle thread was idle in CPU mode, marks the profile partial, and draws no empty graph", () => {
    renderApp(<ProfileResultView profile={idle} />, Role.VIEWER);
    expect(screen.getByText(/idle: 0 of 2500 samples on CPU/)).toBeTruthy();
    expect(screen.getByText(/Partial profile:/).parentElement?.textContent).toContain(
      "agent stream closed",
    );
    expect(screen.getByText(/No samples to draw/)).toBeTruthy();
    expect(screen.queryByRole("table")).toBeNull();
    expect(screen.queryByText("Flame graph")).toBeNull();
  });
});

describe("ProfileButton", () => {
  it("is disabled for viewers, saying why", async () => {
    renderApp(<ProfileButton workerId="w-1" sessionIds={[]} />, Role.VIEWER);
    await screen.findByText(/Profiles need the operator role/);
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Profile" }).disabled).toBe(true);
  });

  it("refuses a duration over 60 s in the form, then starts the chosen profile and opens its page", async () => {
    const started: StartProfileRequest[] = [];
    renderApp(<ProfileButton workerId="w-1" sessionIds={["s-7"]} />, Role.OPERATOR, started);
    const open = screen.getByRole<HTMLButtonElement>("button", { name: "Profile" });
    await waitFor(() => expect(open.disabled).toBe(false));
    fireEvent.click(open);
    fireEvent.click(screen.getByLabelText(/CPU: only samples/));
    fireEvent.change(screen.getByLabelText(/Duration/), { target: { value: "61" } });
    fireEvent.change(screen.getByLabelText(/What to sample/), { target: { value: "s-7" } });
    fireEvent.change(screen.getByLabelText(/Reason/), { target: { value: "slow batch" } });
    const submit = screen.getByRole<HTMLButtonElement>("button", { name: "Start profile" });
    expect(screen.getByText(/whole number of seconds from 1 to 60/)).toBeTruthy();
    expect(submit.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText(/Duration/), { target: { value: "10" } });
    fireEvent.click(submit);
    await screen.findByText("profile page");
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({
      workerId: "w-1",
      sessionId: "s-7",
      mode: ProfileMode.CPU,
      durationMs: 10_000,
      reason: "slow batch",
    });
  });
});
