import { describe, expect, it } from "vitest";
import { Liveness, WorkerKind } from "../../../../gen/stallwatch/v1/fleet_pb";
import { fixtureWorker } from "../../../shared/testing/fixtures";
import { findIncident, viewFleet } from "./fleet-view";

const fleet = [
  fixtureWorker("ok-1"),
  fixtureWorker("gone-1", { liveness: Liveness.GONE, livenessReason: "connection refused" }),
  fixtureWorker("stuck-1", { liveness: Liveness.UNRESPONSIVE }),
  fixtureWorker("late-1", { liveness: Liveness.LATE }),
  fixtureWorker("beam-1", { kind: WorkerKind.BEAM, stalledSessions: 2 }),
];
const all = { text: "", kind: undefined, liveness: undefined, sort: "severity" as const };

describe("viewFleet", () => {
  it("sorts worst first, stalled sessions before others of the same liveness", () => {
    expect(viewFleet(fleet, all).map((w) => w.id)).toEqual([
      "stuck-1",
      "gone-1",
      "late-1",
      "beam-1",
      "ok-1",
    ]);
  });

  it("filters by text (id, address, reason), kind and liveness", () => {
    expect(viewFleet(fleet, { ...all, text: "REFUSED" }).map((w) => w.id)).toEqual(["gone-1"]);
    expect(viewFleet(fleet, { ...all, kind: WorkerKind.BEAM }).map((w) => w.id)).toEqual([
      "beam-1",
    ]);
    expect(viewFleet(fleet, { ...all, liveness: Liveness.LATE }).map((w) => w.id)).toEqual([
      "late-1",
    ]);
  });

  it("sorts by id on request", () => {
    expect(viewFleet(fleet, { ...all, sort: "id" })[0]?.id).toBe("beam-1");
  });
});

describe("findIncident", () => {
  it("counts what the banner reports", () => {
    const i = findIncident(fleet);
    expect(i.unresponsive.map((w) => w.id)).toEqual(["stuck-1"]);
    expect(i.gone.map((w) => w.id)).toEqual(["gone-1"]);
    expect(i.late).toHaveLength(1);
    expect(i.stalledSessions).toBe(2);
  });
});
