import { Counter, Gauge, type Registry } from "prom-client";
import { scrapedGauge } from "./metric-kit.js";

/** What the alert rules watch beyond the fleet (deploy/prometheus/stallwatch-rules.yml). */
export interface HealthSources {
  /** The same check as /readyz. */
  readiness: () => Promise<{ ready: boolean }>;
  /** Store operations that failed since start. */
  storeFailures: () => number;
  /** The dump budget at the collector's last tick. */
  dumpBudget: () => { perSecond: number; demandPerSecond: number; maxPerSecond: number };
}

/**
 * Readiness, store failures, the dump budget and the gateway's public URL,
 * each read at scrape time. The info gauge carries `public_url` so alert
 * rules can join it (`* on(instance) group_left(public_url)`) and build
 * dashboard links without knowing the deployment.
 */
export class HealthMetrics {
  private readonly info: Gauge<"public_url">;

  constructor(registry: Registry, sources: HealthSources) {
    const registers = [registry];
    new Gauge({
      name: "stallwatch_ready",
      help: "1 when the gateway is ready (not stopping, the store writes), as /readyz says.",
      registers,
      async collect() {
        const { ready } = await sources.readiness().catch(() => ({ ready: false }));
        this.set(ready ? 1 : 0);
      },
    });
    new Counter({
      name: "stallwatch_store_errors_total",
      help: "Database operations that failed (writes, and the reads beside them), fatal or not.",
      registers,
      collect() {
        this.reset();
        this.inc(sources.storeFailures());
      },
    });
    scrapedGauge(
      registry,
      {
        name: "stallwatch_dump_budget_per_second",
        help: "Thread dumps per second the fleet-wide budget allows now.",
      },
      () => sources.dumpBudget().perSecond,
    );
    scrapedGauge(
      registry,
      {
        name: "stallwatch_dump_demand_per_second",
        help: "Thread dumps per second the fleet asks for at its cadences (25% headroom included).",
      },
      () => sources.dumpBudget().demandPerSecond,
    );
    scrapedGauge(
      registry,
      {
        name: "stallwatch_dump_budget_max_per_second",
        help: "Ceiling of the dump budget (--max-dumps-per-second).",
      },
      () => sources.dumpBudget().maxPerSecond,
    );
    this.info = new Gauge({
      name: "stallwatch_gateway_info",
      help: "Always 1; public_url is where people reach this gateway's dashboard (--public-url).",
      labelNames: ["public_url"],
      registers,
    });
  }

  /** Sets the dashboard's public URL (the one alert links point at). */
  publicUrl(url: string): void {
    this.info.reset();
    this.info.set({ public_url: url.replace(/\/+$/, "") }, 1);
  }
}
