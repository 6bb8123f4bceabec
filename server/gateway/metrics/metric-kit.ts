import { Counter, Gauge, type Registry } from "prom-client";

/**
 * A counter whose one label takes a closed set of values, every series
 * present (at 0) from the start: "none yet" reads as 0, not absent, and the
 * label can never grow a series per worker.
 */
export function closedSetCounter<L extends string>(
  registry: Registry,
  spec: { name: string; help: string; label: L; values: readonly string[] },
): Counter<L> {
  const counter = new Counter<L>({
    name: spec.name,
    help: spec.help,
    labelNames: [spec.label],
    registers: [registry],
  });
  for (const value of spec.values) counter.inc({ [spec.label]: value } as Record<L, string>, 0);
  return counter;
}

/** A gauge whose value is read when Prometheus scrapes, never pushed. */
export function scrapedGauge(
  registry: Registry,
  spec: { name: string; help: string },
  read: () => number,
): Gauge {
  return new Gauge({
    ...spec,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}
