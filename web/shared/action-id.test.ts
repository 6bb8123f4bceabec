import { describe, expect, it } from "vitest";
import { newActionId } from "./action-id";

describe("newActionId", () => {
  it("makes ids the gateway accepts, named by where they came from", () => {
    for (const prefix of ["ui", "ui-retry"] as const) {
      const id = newActionId(prefix);
      // The gateway's rule (server/gateway/actions/action-request.ts).
      expect(id).toMatch(/^[A-Za-z0-9_-]{1,100}$/);
      expect(id.startsWith(`${prefix}-`)).toBe(true);
    }
  });

  it("never repeats: a repeated id would be the same action on the gateway", () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newActionId("ui")));
    expect(ids.size).toBe(10_000);
  });
});
