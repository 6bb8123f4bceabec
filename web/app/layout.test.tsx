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
import { identityLabel } from "./identity-label";

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

describe("Layout: shortcuts, help and theme, each from its own file (issue 20)", () => {
  it("goes to a section on g + letter, opens and closes the help, switches the theme", async () => {
    localStorage.removeItem("stallwatch.theme");
    render(<App transport={transport} initialPath="/" />);
    await screen.findByRole("link", { name: "Stalled" });
    fireEvent.keyDown(window, { key: "g" });
    fireEvent.keyDown(window, { key: "n" });
    // A bound, not a timing claim: the view's code is its own chunk, imported on the way.
    await screen.findByRole("heading", { name: "Snapshots" }, { timeout: 10_000 });

    fireEvent.keyDown(window, { key: "?" });
    const help = screen.getByRole("dialog", { name: "Keyboard shortcuts" });
    expect(help.textContent).toContain("stalled sessions");
    fireEvent.keyDown(window, { key: "Escape" });
    expect(screen.queryByRole("dialog", { name: "Keyboard shortcuts" })).toBeNull();

    fireEvent.keyDown(window, { key: "t" });
    expect(document.documentElement.dataset.theme).toBe("dark");
    expect(localStorage.getItem("stallwatch.theme")).toBe("dark");
    fireEvent.click(screen.getByRole("button", { name: "Switch light or dark theme" }));
    expect(document.documentElement.dataset.theme).toBe("light");
  });
});
