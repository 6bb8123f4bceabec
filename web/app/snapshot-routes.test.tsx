// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createRouterTransport } from "@connectrpc/connect";
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { SnapshotSchema, SnapshotService } from "../../gen/stallwatch/v1/snapshot_pb";
import { Liveness } from "../../gen/stallwatch/v1/fleet_pb";
import { ProfileMode } from "../../gen/stallwatch/v1/agent_pb";
import { ActionStatus } from "../../gen/stallwatch/v1/control_pb";
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

const transport = createRouterTransport(({ service }) => {
  service(SnapshotService, {
    getSnapshot: (req) => {
      if (req.id === "worker-snapshot-id-000000") {
        return {
          snapshot: create(SnapshotSchema, {
            info: { id: req.id, createdAtMs: 1_000_000n, createdBy: "alice", workerId: "w-9" },
            workers: [fixtureWorker("w-9")],
            details: req.summary
              ? []
              : [{ worker: fixtureWorker("w-9", { liveness: Liveness.UNRESPONSIVE }) }],
            // The worker's latest profile when the snapshot was taken (issue 22).
            profiles: [
              {
                profileId: "ui-p-1",
                workerId: "w-9",
                status: ActionStatus.SUCCEEDED,
                actor: "alice",
                reason: "why so slow",
                result: {
                  mode: ProfileMode.WALL,
                  intervalUs: 10_000,
                  frames: [{ function: "recv_into", file: "ssl.py", line: 1821 }],
                  threads: [
                    { threadId: "t1", name: "MainThread", stacks: [{ frames: [0], count: 50n }] },
                  ],
                },
              },
            ],
          }),
        };
      }
      if (req.id === "incident-snapshot-id-0000") {
        return {
          snapshot: create(SnapshotSchema, {
            info: { id: req.id, createdAtMs: 1_000_000n, createdBy: "alice", workerCount: 3 },
            workers: [
              fixtureWorker("w-1", { stalledSessions: 3 }),
              fixtureWorker("w-2", { liveness: Liveness.UNRESPONSIVE }),
              fixtureWorker("w-3", { liveness: Liveness.GONE }),
            ],
          }),
        };
      }
      if (req.id !== "known-snapshot-id-0000000")
        throw new ConnectError("no such snapshot", Code.NotFound);
      return {
        snapshot: create(SnapshotSchema, {
          info: {
            id: req.id,
            createdAtMs: 1_000_000n,
            createdBy: "alice",
            workerCount: 1,
            note: "INC-7",
          },
          workers: [fixtureWorker("w-1")],
        }),
      };
    },
  });
});

describe("SnapshotPage", () => {
  it("renders the stored fleet read-only under a banner saying when, by whom, of what", async () => {
    render(<App transport={transport} initialPath="/snapshots/known-snapshot-id-0000000" />);
    const banner = await screen.findByRole("note");
    expect(banner.textContent).toMatch(
      /Snapshot taken .* by alice of the fleet \(1 workers\) — “INC-7”\. Read-only/,
    );
    expect(screen.getByRole("link", { name: "w-1" }).getAttribute("href")).toBe(
      "/snapshots/known-snapshot-id-0000000/workers/w-1",
    );
  });

  it("says clearly when the snapshot is unknown or expired", async () => {
    render(<App transport={transport} initialPath="/snapshots/nope" />);
    expect(await screen.findByRole("heading", { name: "Snapshot not found" })).toBeTruthy();
    expect(screen.getByRole("alert").textContent).toMatch(/does not exist or has expired/);
  });

  it("bug 4: keeps every link of the snapshot's views inside the snapshot", async () => {
    const { container } = render(
      <App transport={transport} initialPath="/snapshots/incident-snapshot-id-0000" />,
    );
    const banner = await screen.findByRole("alert");
    expect(banner.textContent).toContain("3 sessions stalled");
    const hrefs = [...container.querySelectorAll("main a")]
      .filter((a) => !a.closest("[role=note]"))
      .map((a) => a.getAttribute("href") ?? "");
    expect(hrefs.length).toBeGreaterThan(3);
    for (const href of hrefs) expect(href).toMatch(/^\/snapshots\/incident-snapshot-id-0000\//);
    expect(screen.getByRole("link", { name: /3 sessions stalled/ }).getAttribute("href")).toBe(
      "/snapshots/incident-snapshot-id-0000/workers/w-1",
    );
    expect(screen.getByRole("link", { name: /1 worker unresponsive/ }).getAttribute("href")).toBe(
      "/snapshots/incident-snapshot-id-0000/workers/w-2",
    );
  });

  it("bug 4: opens a worker's snapshot on that worker's page, not a one-row fleet", async () => {
    render(<App transport={transport} initialPath="/snapshots/worker-snapshot-id-000000" />);
    expect(await screen.findByRole("heading", { name: "w-9" })).toBeTruthy();
    expect(screen.queryByText(/1 workers/)).toBeNull();
    expect(screen.queryByRole("link", { name: /All events/ })).toBeNull();
  });

  it("issue 22: shows the profile the snapshot kept, read-only: the table and the exports", async () => {
    render(<App transport={transport} initialPath="/snapshots/worker-snapshot-id-000000" />);
    expect(await screen.findByText(/Started by alice: “why so slow”/)).toBeTruthy();
    const rows = await screen.findAllByRole("row");
    expect(rows.some((r) => /100\.00%.*recv_into.*ssl\.py:1821/.test(r.textContent))).toBe(true);
    expect(screen.getByRole("button", { name: "Export collapsed stacks" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Profile" })).toBeNull();
  });

  it("bug 6: trusts the gateway's word that an id is unknown, without asking the API", async () => {
    const meta = document.createElement("meta");
    meta.name = "stallwatch:snapshot-missing";
    meta.content = "known-snapshot-id-0000000";
    document.head.append(meta);
    try {
      render(<App transport={transport} initialPath="/snapshots/known-snapshot-id-0000000" />);
      expect(await screen.findByRole("heading", { name: "Snapshot not found" })).toBeTruthy();
    } finally {
      meta.remove();
    }
  });
});
