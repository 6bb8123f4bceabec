import { describe, expect, it } from "vitest";
import { SessionState } from "../../gen/stallwatch/v1/agent_pb";
import { ActionStatus } from "../../gen/stallwatch/v1/control_pb";
import { Liveness } from "../../gen/stallwatch/v1/fleet_pb";
import { LIVENESS_LABEL } from "./liveness";
import { stateKey } from "./state-key";

const values = (e: object) => Object.values(e).filter((v): v is number => typeof v === "number");

describe("stateKey (issue 12: class names from state keys, not labels)", () => {
  it("follows the enum, not the word shown", () => {
    expect(LIVENESS_LABEL[Liveness.UNSPECIFIED]).toBe("waiting");
    expect(stateKey(Liveness, Liveness.UNSPECIFIED)).toBe("unspecified");
    expect(stateKey(SessionState, SessionState.WAITING_FOR_INPUT)).toBe("waiting-for-input");
    expect(stateKey(ActionStatus, ActionStatus.SUCCEEDED)).toBe("succeeded");
  });

  it("gives every value of an enum a distinct, class-safe key", () => {
    for (const e of [Liveness, SessionState, ActionStatus]) {
      const keys = values(e).map((v) => stateKey(e, v));
      expect(new Set(keys).size).toBe(keys.length);
      for (const key of keys) expect(key).toMatch(/^[a-z][a-z0-9-]*$/);
    }
  });

  it("names a value the enum does not know (a newer gateway) as unknown", () => {
    expect(stateKey(Liveness, 99)).toBe("unknown");
  });
});
