// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { createRouterTransport } from "@connectrpc/connect";
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { giveElementsAScreenSizedBox } from "../shared/testing/jsdom-layout";
import { FleetService, Liveness, WatchFleetResponseSchema } from "../../gen/stallwatch/v1/fleet_pb";
import { fixtureWorker } from "../shared/testing/fixtures";
import { App } from "./app";

afterEach(cleanup);
giveElementsAScreenSizedBox();

describe("App against an in-memory FleetService", () => {
  it("shows the fleet from the stream and applies deltas live", async () => {
    const transport = createRouterTransport(({ service }) => {
      service(FleetService, {
        async *watchFleet() {
          yield create(WatchFleetResponseSchema, {
            fullState: true,
            workers: [fixtureWorker("w-1")],
          });
          await new Promise((r) => setTimeout(r, 50));
          yield create(WatchFleetResponseSchema, {
            workers: [fixtureWorker("w-1", { liveness: Liveness.UNRESPONSIVE })],
          });
          await new Promise((r) => setTimeout(r, 60_000));
        },
      });
    });
    render(<App transport={transport} initialPath="/" />);
    const row = await screen.findByRole("row", { name: /w-1/ });
    expect(within(row).getByText("healthy")).toBeTruthy();
    await waitFor(
      () =>
        expect(
          within(screen.getByRole("row", { name: /w-1/ })).getByText("unresponsive"),
        ).toBeTruthy(),
      { timeout: 3000 },
    );
    expect(screen.getByRole("status").textContent).toContain("live");
    expect(screen.getByRole("alert").textContent).toMatch(/1 worker unresponsive/);
  });

  it("shows a clear page for an unknown path", async () => {
    const transport = createRouterTransport(() => undefined);
    render(<App transport={transport} initialPath="/nowhere" />);
    expect(await screen.findByRole("heading", { name: "Not found" })).toBeTruthy();
  });
});
