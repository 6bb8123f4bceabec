import { monitorEventLoopDelay } from "node:perf_hooks";
import { Counter, type Registry } from "prom-client";
import { scrapedGauge } from "./metric-kit.js";

/**
 * The process figures an operator needs, under names `promtool check
 * metrics` accepts (prom-client's defaults are not registered: three of its
 * gauges end in `_total`). Returns a stop function for the event-loop monitor.
 */
export function registerProcessMetrics(registry: Registry): () => void {
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  scrapedGauge(
    registry,
    { name: "process_resident_memory_bytes", help: "Resident memory of the gateway process." },
    () => process.memoryUsage().rss,
  );
  new Counter({
    name: "process_cpu_seconds_total",
    help: "CPU time used by the gateway process (user + system).",
    registers: [registry],
    collect() {
      const { user, system } = process.cpuUsage();
      this.reset();
      this.inc((user + system) / 1e6);
    },
  });
  scrapedGauge(
    registry,
    {
      name: "nodejs_eventloop_delay_p99_seconds",
      help: "99th percentile event-loop delay since the previous scrape.",
    },
    () => loopDelay.percentile(99) / 1e9,
  );
  // Registered after the p99 gauge, so both read the same window before it resets.
  scrapedGauge(
    registry,
    {
      name: "nodejs_eventloop_delay_max_seconds",
      help: "Longest event-loop delay since the previous scrape: one stall that p99 hides.",
    },
    () => {
      const max = loopDelay.max / 1e9;
      loopDelay.reset();
      return max;
    },
  );
  return () => loopDelay.disable();
}
