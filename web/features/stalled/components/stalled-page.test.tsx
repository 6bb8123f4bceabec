// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { createRouterTransport } from "@connectrpc/connect";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it } from "vitest";
import { SessionState } from "../../../../gen/stallwatch/v1/agent_pb";
import { FleetService, SessionViewSchema } from "../../../../gen/stallwatch/v1/fleet_pb";
import { TransportProvider } from "../../../shared/transport-context";
import { StalledPage } from "./stalled-page";

afterEach(cleanup);

const stalled = (workerId: string, sessionId: string) =>
  create(SessionViewSchema, {
    workerId,
    session: { sessionId, state: SessionState.PROCESSING, udfName: "hang", threadId: "udf-2" },
    stalled: true,
    stallReason: "in PROCESSING for 92 s",
    lastProgressAtMs: BigInt(Date.now() - 92_000),
  });

describe("StalledPage (issue 20: streams like every live view)", () => {
  it("shows each list the stream sends, as it comes, without asking again", async () => {
    let next: () => void = () => undefined;
    const opened: string[] = [];
    // Only the stream is served: a poll (ListStalledSessions) would fail as unimplemented.
    const transport = createRouterTransport(({ service }) => {
      service(FleetService, {
        async *watchStalledSessions(_req, ctx) {
          opened.push("watch");
          yield { sessions: [stalled("w-1", "s-1")], asOfMs: BigInt(Date.now()) };
          await new Promise<void>((r) => (next = r));
          yield {
            sessions: [stalled("w-1", "s-1"), stalled("w-2", "s-2")],
            asOfMs: BigInt(Date.now()),
          };
          await new Promise<void>((r) => ctx.signal.addEventListener("abort", () => r()));
        },
      });
    });
    render(
      <TransportProvider transport={transport}>
        <QueryClientProvider client={new QueryClient()}>
          <MemoryRouter>
            <StalledPage />
          </MemoryRouter>
        </QueryClientProvider>
      </TransportProvider>,
    );
    await screen.findByText("1 stalled, longest without progress first");
    expect(screen.getByRole("link", { name: "w-1" })).toBeTruthy();
    expect(screen.getByRole("status").textContent).toBe("live");
    next();
    await screen.findByText("2 stalled, longest without progress first");
    expect(screen.getByRole("link", { name: "w-2" })).toBeTruthy();
    await waitFor(() => expect(opened).toEqual(["watch"]));
  });
});
