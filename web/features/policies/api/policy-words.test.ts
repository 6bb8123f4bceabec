import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  PolicyCountsSchema,
  PolicyMode,
  PolicyOutcome,
} from "../../../../gen/stallwatch/v1/policy_pb";
import { capReached, capText, modeText, outcomeWord } from "./policy-words";

const counts = (actionsInWindow: number) => create(PolicyCountsSchema, { actionsInWindow });

describe("policy words", () => {
  it("names the configured mode only when the switch overrides it", () => {
    expect(
      modeText({ configuredMode: PolicyMode.ENFORCE, effectiveMode: PolicyMode.ENFORCE }),
    ).toBe("enforce");
    expect(
      modeText({ configuredMode: PolicyMode.ENFORCE, effectiveMode: PolicyMode.DRY_RUN }),
    ).toBe("dry-run (configured: enforce)");
  });

  it("says how much of the cap is used, and when it binds", () => {
    const policy = { maxActions: 3, windowMs: 600_000n, counts: counts(2) };
    expect(capText(policy)).toBe("2 of 3 in the last 10 min");
    expect(capReached(policy)).toBe(false);
    expect(capReached({ ...policy, counts: counts(3) })).toBe(true);
    // No cap configured is never "reached" (the gateway refuses such a policy anyway).
    expect(capReached({ maxActions: 0, counts: counts(0) })).toBe(false);
  });

  it("words every outcome", () => {
    expect(outcomeWord(PolicyOutcome.WOULD_ACT)).toBe("would have acted");
    expect(outcomeWord(PolicyOutcome.SKIPPED_CAP)).toBe("skipped: cap reached");
  });
});
