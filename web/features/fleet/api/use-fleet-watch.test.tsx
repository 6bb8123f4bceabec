// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { createRouterTransport } from "@connectrpc/connect";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, cleanup, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FleetService, WatchFleetResponseSchema } from "../../../../gen/stallwatch/v1/fleet_pb";
import { TransportProvider } from "../../../shared/transport-context";
import { fixtureWorker } from "../../../shared/testing/fixtures";
import { useFleetWatch } from "./use-fleet-watch";

/** TanStack Query's default gcTime: what collected the unobserved fleet entry. */
const DEFAULT_GC_TIME_MS = 5 * 60_000;
const KEEPALIVE_MS = 5_000;

function FleetSize() {
  const { fleet } = useFleetWatch();
  return <p data-testid="size">{fleet.workers.size} workers</p>;
}

beforeEach(() => {
  vi.useFakeTimers({
    toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"],
  });
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe("useFleetWatch (issue 11, bug 8)", () => {
  it("keeps the fleet past TanStack's default gcTime while only keepalives arrive", async () => {
    const transport = createRouterTransport(({ service }) => {
      service(FleetService, {
        async *watchFleet(_req, ctx) {
          yield create(WatchFleetResponseSchema, {
            fullState: true,
            workers: [fixtureWorker("a"), fixtureWorker("b"), fixtureWorker("c")],
            asOfMs: BigInt(Date.now()),
          });
          // A quiet fleet: keepalives only, as the gateway sends them.
          while (!ctx.signal.aborted) {
            await new Promise((r) => setTimeout(r, KEEPALIVE_MS));
            yield create(WatchFleetResponseSchema, { asOfMs: BigInt(Date.now()) });
          }
        },
      });
    });
    render(
      <TransportProvider transport={transport}>
        <QueryClientProvider client={new QueryClient()}>
          <FleetSize />
        </QueryClientProvider>
      </TransportProvider>,
    );
    await act(() => vi.advanceTimersByTimeAsync(100));
    expect(screen.getByTestId("size").textContent).toBe("3 workers");
    // Step through the whole period the entry used to live, and past it,
    // looking at every 100 ms around the moment it was collected.
    await act(() => vi.advanceTimersByTimeAsync(DEFAULT_GC_TIME_MS - 1_000));
    for (let t = 0; t < 3_000; t += 100) {
      await act(() => vi.advanceTimersByTimeAsync(100));
      expect(screen.getByTestId("size").textContent).toBe("3 workers");
    }
    await act(() => vi.advanceTimersByTimeAsync(2 * DEFAULT_GC_TIME_MS));
    expect(screen.getByTestId("size").textContent).toBe("3 workers");
  });
});
