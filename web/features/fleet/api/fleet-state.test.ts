import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { WatchFleetResponseSchema } from "../../../../gen/stallwatch/v1/fleet_pb";
import { fixtureWorker } from "../../../shared/testing/fixtures";
import { applyFleetMessage, emptyFleet } from "./fleet-state";

describe("applyFleetMessage", () => {
  it("replaces everything on a full state", () => {
    const s1 = applyFleetMessage(
      emptyFleet,
      create(WatchFleetResponseSchema, {
        fullState: true,
        workers: [fixtureWorker("a")],
        asOfMs: 5n,
      }),
    );
    const s2 = applyFleetMessage(
      s1,
      create(WatchFleetResponseSchema, {
        fullState: true,
        workers: [fixtureWorker("b")],
        asOfMs: 6n,
      }),
    );
    expect([...s2.workers.keys()]).toEqual(["b"]);
    expect(s2.asOfMs).toBe(6);
  });

  it("upserts and removes on a delta", () => {
    const s1 = applyFleetMessage(
      emptyFleet,
      create(WatchFleetResponseSchema, {
        fullState: true,
        workers: [fixtureWorker("a"), fixtureWorker("b")],
      }),
    );
    const s2 = applyFleetMessage(
      s1,
      create(WatchFleetResponseSchema, {
        workers: [fixtureWorker("a", { address: "moved" }), fixtureWorker("c")],
        removedWorkerIds: ["b"],
      }),
    );
    expect([...s2.workers.keys()].sort()).toEqual(["a", "c"]);
    expect(s2.workers.get("a")?.address).toBe("moved");
    expect(s1.workers.has("b")).toBe(true); // the old state is untouched
  });

  it("keeps the worker map for a keepalive so nothing re-renders", () => {
    const s1 = applyFleetMessage(
      emptyFleet,
      create(WatchFleetResponseSchema, {
        fullState: true,
        workers: [fixtureWorker("a")],
        asOfMs: 1n,
      }),
    );
    const s2 = applyFleetMessage(s1, create(WatchFleetResponseSchema, { asOfMs: 2n }));
    expect(s2.workers).toBe(s1.workers);
    expect(s2.asOfMs).toBe(2);
  });
});
