import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../testing/fake-clock.js";
import { createGateway } from "./gateway.js";
import { defaultProberOptions } from "./heartbeats/heartbeat-prober.js";
import { openStore } from "./store/store.js";
import { systemClock } from "../shared/clock/clock.js";

const log = pino({ level: "silent" });
const day = 86_400_000;

describe("the gateway's clock", () => {
  it("drives the sweep that forgets workers gone past the retention", async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const store = await openStore({
      clock: systemClock,
      path: ":memory:",
      log,
      retention: { snapshotsMs: day, eventsMs: day, auditMs: day },
    });
    const gateway = createGateway({
      clock,
      targets: [],
      prober: defaultProberOptions,
      store,
      auth: { readOnly: false },
      webRoot: "dist/web",
      goneRetentionMs: 60_000,
      log,
    });
    try {
      const worker = gateway.fleet.enroll("beam-1", "beam", "10.0.0.9:0");
      gateway.fleet.connectionLost(worker, clock.now(), "stream closed");
      await clock.advance(50_000);
      expect(gateway.fleet.get("beam-1")).toBeDefined(); // gone for less than the retention
      await clock.advance(20_000); // the 10 s sweep after the retention passed
      expect(gateway.fleet.get("beam-1")).toBeUndefined();
    } finally {
      gateway.close();
      await store.close();
    }
  });
});
