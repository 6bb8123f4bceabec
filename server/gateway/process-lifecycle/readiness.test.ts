import { describe, expect, it } from "vitest";
import { StoreFatalError } from "../store/store-errors.js";
import { Readiness } from "./readiness.js";

describe("readiness", () => {
  it("ready while the probe writes; not ready, saying why, when it cannot", async () => {
    const probe: { failure?: Error } = {};
    const ready = new Readiness({
      fatal: undefined,
      probeWrite: () => (probe.failure ? Promise.reject(probe.failure) : Promise.resolve()),
    });
    expect(await ready.check()).toEqual({ ready: true, reason: "ok" });
    probe.failure = new Error("disk I/O error");
    expect(await ready.check()).toEqual({
      ready: false,
      reason: "database cannot write: disk I/O error",
    });
  });

  // Issue 19 item 8: a store failure stops the gateway; the stop must not hide why.
  it("names the store's fatal error, not the shutdown it caused", async () => {
    const fatal = new StoreFatalError(
      "create snapshot: database or disk is full (SQLITE_FULL)",
      "SQLITE_FULL",
    );
    const ready = new Readiness({ fatal, probeWrite: () => Promise.resolve() });
    ready.stop("database failure: SQLITE_FULL");
    expect(await ready.check()).toEqual({
      ready: false,
      reason: "database unusable: create snapshot: database or disk is full (SQLITE_FULL)",
    });
  });

  it("says it is shutting down when it stops for another reason", async () => {
    const ready = new Readiness({ fatal: undefined, probeWrite: () => Promise.resolve() });
    ready.stop("SIGTERM");
    expect(await ready.check()).toEqual({ ready: false, reason: "shutting down (SIGTERM)" });
  });
});
