import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { WatchFleetResponseSchema } from "../../../../gen/stallwatch/v1/fleet_pb";
import { fixtureWorker } from "../../../shared/testing/fixtures";
import { applyFleetMessage, emptyFleet, type FleetState } from "./fleet-state";

type Message = MessageInitShape<typeof WatchFleetResponseSchema>;

/** The fleet after `first` (from empty), then after `second`. */
function applyTwo(first: Message, second: Message): [FleetState, FleetState] {
  const s1 = applyFleetMessage(emptyFleet, create(WatchFleetResponseSchema, first));
  return [s1, applyFleetMessage(s1, create(WatchFleetResponseSchema, second))];
}

describe("applyFleetMessage", () => {
  it("replaces everything on a full state", () => {
    const [, s2] = applyTwo(
      { fullState: true, workers: [fixtureWorker("a")], asOfMs: 5n },
      { fullState: true, workers: [fixtureWorker("b")], asOfMs: 6n },
    );
    expect([...s2.workers.keys()]).toEqual(["b"]);
    expect(s2.asOfMs).toBe(6);
  });

  it("upserts and removes on a delta", () => {
    const [s1, s2] = applyTwo(
      { fullState: true, workers: [fixtureWorker("a"), fixtureWorker("b")] },
      {
        workers: [fixtureWorker("a", { address: "moved" }), fixtureWorker("c")],
        removedWorkerIds: ["b"],
      },
    );
    expect([...s2.workers.keys()].sort()).toEqual(["a", "c"]);
    expect(s2.workers.get("a")?.address).toBe("moved");
    expect(s1.workers.has("b")).toBe(true); // the old state is untouched
  });

  it("keeps the worker map for a keepalive so nothing re-renders", () => {
    const [s1, s2] = applyTwo(
      { fullState: true, workers: [fixtureWorker("a")], asOfMs: 1n },
      { asOfMs: 2n },
    );
    expect(s2.workers).toBe(s1.workers);
    expect(s2.asOfMs).toBe(2);
  });
});
