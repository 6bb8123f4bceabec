// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createRouterTransport } from "@connectrpc/connect";
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { SnapshotSchema, SnapshotService } from "../../../../gen/stallwatch/v1/snapshot_pb";
import { App } from "../../../app/app";
import { fixtureWorker } from "../../../testing/fixtures";
import { giveElementsAScreenSizedBox } from "../../../testing/jsdom-layout";

afterEach(cleanup);
giveElementsAScreenSizedBox();

const transport = createRouterTransport(({ service }) => {
  service(SnapshotService, {
    getSnapshot: (req) => {
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
});
