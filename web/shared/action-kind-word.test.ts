import { describe, expect, it } from "vitest";
import { fromBinary } from "@bufbuild/protobuf";
import { ActionKind, ActionSchema } from "../../gen/stallwatch/v1/control_pb";
import { actionKindWord } from "./action-kind-word";

describe("actionKindWord", () => {
  it("words every kind the proto defines, none left to a fallback", () => {
    const kinds = Object.values(ActionKind).filter(
      (k): k is ActionKind => typeof k === "number" && k !== ActionKind.UNSPECIFIED,
    );
    expect(kinds.length).toBeGreaterThanOrEqual(5);
    for (const kind of kinds) expect(actionKindWord(kind)).not.toMatch(/unknown/);
    expect(actionKindWord(ActionKind.DRAIN_WORKER)).toBe("drain worker");
    expect(actionKindWord(ActionKind.POLICY_SWITCH)).toBe("policy switch");
  });

  it("reads a kind from a newer gateway as unknown instead of throwing", () => {
    // An Action whose `kind` (field 2, a varint) is 99: protobuf-es keeps the
    // unknown enum value as its number, as it would from a newer gateway.
    const action = fromBinary(ActionSchema, new Uint8Array([2 << 3, 99]));
    expect(actionKindWord(action.kind)).toBe("unknown action (99)");
  });
});
