// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { createRouterTransport } from "@connectrpc/connect";
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ControlService, Role } from "../../gen/stallwatch/v1/control_pb";
import { FleetService, Liveness } from "../../gen/stallwatch/v1/fleet_pb";
import { SnapshotSchema, SnapshotService } from "../../gen/stallwatch/v1/snapshot_pb";
import { fixtureWorker } from "../shared/testing/fixtures";
import { giveElementsAScreenSizedBox } from "../shared/testing/jsdom-layout";
import { App } from "./app";
import { identityLabel } from "./layout";

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});
giveElementsAScreenSizedBox();

const transport = createRouterTransport(({ service }) => {
  service(ControlService, {
    whoAmI: () => ({ role: Role.OPERATOR, actor: "operator (token)" }),
  });
  service(FleetService, {
    async *watchFleet(_req, ctx) {
      await new Promise<void>((r) => ctx.signal.addEventListener("abort", () => r()));
      yield* [];
    },
  });
  service(SnapshotService, {
    createSnapshot: () => ({ info: { id: "snap-id" } }),
    getSnapshot: (req) => ({
      snapshot: create(SnapshotSchema, {
        info: { id: req.id, createdAtMs: BigInt(Date.now()), workerCount: 2 },
        workers: [
          fixtureWorker("w-1", { liveness: Liveness.UNRESPONSIVE, lastHeartbeatAtMs: 0n }),
          fixtureWorker("w-2"),
        ],
      }),
    }),
  });
});

describe("Layout (issue 11, bug 6)", () => {
  it("says who the operator is once", async () => {
    expect(identityLabel("operator (token)")).toBe("operator (token)");
    expect(identityLabel("alice")).toBe("operator · alice");
    render(<App transport={transport} initialPath="/" />);
    const role = await screen.findByText("operator (token)");
    expect(role.textContent).not.toContain("operator (operator");
  });

  it("copies a summary with the link, in a note that goes away by itself or on dismiss", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const copied: string[] = [];
    Object.defineProperty(navigator, "clipboard", {
      configurable: true,
      value: { writeText: (t: string) => (copied.push(t), Promise.resolve()) },
    });
    render(<App transport={transport} initialPath="/" />);
    fireEvent.click(await screen.findByRole("button", { name: "Share snapshot" }));
    const note = (await screen.findByText(/Copied:/)).closest("[role=status]");
    expect(note?.textContent).toContain(
      "1 worker unresponsive — w-1: unresponsive — snapshot http://localhost:3000/snapshots/snap-id",
    );
    expect(copied[0]).toBe(
      "1 worker unresponsive — w-1: unresponsive — snapshot http://localhost:3000/snapshots/snap-id",
    );
    await act(() => vi.advanceTimersByTimeAsync(13_000));
    expect(screen.queryByText(/Copied:/)).toBeNull();

    fireEvent.click(screen.getByRole("button", { name: "Share snapshot" }));
    await screen.findByText(/Copied:/);
    fireEvent.click(screen.getByRole("button", { name: "Dismiss" }));
    expect(screen.queryByText(/Copied:/)).toBeNull();
  });
});
