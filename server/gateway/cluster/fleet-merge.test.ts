import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { WorkerSchema } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { FleetMerge, LOCAL } from "./fleet-merge.js";

const w = (id: string, address = "a") => create(WorkerSchema, { id, address });
const ids = (merge: FleetMerge) =>
  merge
    .all()
    .map((r) => r.id)
    .sort();

describe("the merged fleet", () => {
  it("shows each id once, from the best source, and hands over without a gap", () => {
    const stale = new Set<string>();
    const merge = new FleetMerge((s) => (s === LOCAL ? 0 : stale.has(s) ? 2 : 1));
    merge.apply(LOCAL, [w("x", "local")], [], true);
    merge.apply("gw-b", [w("y", "b"), w("z", "b")], [], true);
    expect(ids(merge)).toEqual(["x", "y", "z"]);

    // gw-b dies: its rows stay (stale) until someone else has them.
    stale.add("gw-b");
    expect(merge.rerank("gw-b")).toEqual({ upserts: [], removed: [] });
    // gw-c takes y over: y now comes from gw-c, z still from gw-b's last state.
    const took = merge.apply("gw-c", [w("y", "c")], [], true);
    expect(took.upserts.map((r) => r.address)).toEqual(["c"]);
    expect(merge.sourceOf("y")).toBe("gw-c");
    // This gateway takes z over.
    const mine = merge.apply(LOCAL, [w("z", "local")], []);
    expect(mine.upserts.map((r) => r.id)).toEqual(["z"]);
    // gw-b leaves the cluster: nothing disappears, nobody is listed twice.
    expect(merge.dropSource("gw-b")).toEqual({ upserts: [], removed: [] });
    expect(
      merge
        .all()
        .map((r) => `${r.id}@${r.address}`)
        .sort(),
    ).toEqual(["x@local", "y@c", "z@local"]);
  });

  it("removes an id only when no source has it, and forwards updates from the shown source only", () => {
    const merge = new FleetMerge((s) => (s === LOCAL ? 0 : 1));
    merge.apply("gw-b", [w("y", "b1")], []);
    merge.apply(LOCAL, [w("y", "local")], []);
    expect(merge.apply("gw-b", [w("y", "b2")], []).upserts).toEqual([]);
    expect(merge.apply(LOCAL, [], ["y"]).upserts.map((r) => r.address)).toEqual(["b2"]);
    expect(merge.apply("gw-b", [], ["y"]).removed).toEqual(["y"]);
    expect(merge.all()).toEqual([]);
  });
});
