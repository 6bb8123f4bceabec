import { describe, expect, it } from "vitest";
import { Liveness } from "../../gen/stallwatch/v1/fleet_pb";
import { LIVENESS_ORDER, LIVENESS_SEVERITY } from "./liveness";

describe("liveness order", () => {
  it("ranks every liveness once, worst first", () => {
    const all = Object.values(Liveness).filter((v) => typeof v === "number");
    expect([...LIVENESS_ORDER].sort()).toEqual([...all].sort());
    expect(LIVENESS_SEVERITY[Liveness.UNRESPONSIVE]).toBe(0);
    expect(LIVENESS_SEVERITY[Liveness.HEALTHY]).toBeLessThan(LIVENESS_SEVERITY[Liveness.EXITED]);
  });
});
