import http from "node:http";
import { pino } from "pino";
import { Gauge } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultProberOptions } from "../heartbeats/heartbeat-prober.js";
import { closeServer, listen } from "../../shared/net/listen.js";
import { openStore, type Store } from "../store/store.js";
import { createGateway, type Gateway } from "../gateway.js";
import { systemClock } from "../../shared/clock/clock.js";

/**
 * `/metrics` with a collector that throws: the scrape gets a 500 and the
 * process lives on (before, the rejection was unhandled and ended it).
 */
describe("/metrics when a collector fails", () => {
  let store: Store;
  let gateway: Gateway;
  let server: http.Server;
  let base: string;
  const lines: string[] = [];

  beforeAll(async () => {
    const log = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
    const day = 86_400_000;
    store = await openStore({
      clock: systemClock,
      path: ":memory:",
      log,
      retention: { snapshotsMs: day, eventsMs: day, auditMs: day },
    });
    gateway = createGateway({
      clock: systemClock,
      targets: [],
      prober: { ...defaultProberOptions, probeThreads: 0 },
      store,
      auth: { readOnly: false },
      webRoot: "dist/web",
      log,
    });
    server = http.createServer(gateway.httpHandler);
    const address = await listen(server, { host: "127.0.0.1", port: 0 }, "http");
    gateway.httpBound(address);
    base = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    await closeServer(server, 2000);
    gateway.close();
    await store.close();
  });

  it("answers 500 and logs the fault, then serves again once the collector recovers", async () => {
    let failing = true;
    new Gauge({
      name: "test_flaky_collector",
      help: "A collector that fails on demand.",
      registers: [gateway.metrics.registry],
      collect() {
        if (failing) throw new Error("collector exploded");
        this.set(1);
      },
    });
    const broken = await fetch(`${base}/metrics`);
    expect(broken.status).toBe(500);
    expect(await broken.text()).toContain("metrics collection failed");
    expect(lines.some((l) => l.includes("metrics collection failed"))).toBe(true);

    failing = false;
    const healthy = await fetch(`${base}/metrics`);
    expect(healthy.status).toBe(200);
    expect(await healthy.text()).toContain("test_flaky_collector 1");
  });
});
