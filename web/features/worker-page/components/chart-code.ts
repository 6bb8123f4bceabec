/**
 * The charts' code (recharts is most of the bundle's weight), fetched once
 * and shared: by the lazy chart components when they render, and ahead of
 * them by `preloadCharts`, which the app calls when the worker route loads
 * and when a link to a worker is hovered or focused. Without the head start
 * the charts' code was only asked for once the page had its first data, and
 * both charts said "Loading chart…" while the rest was complete (issue 19.4,
 * bench/worker-charts.bench.ts).
 */
type ChartCode = [typeof import("./latency-chart"), typeof import("./metric-chart")];

let loading: Promise<ChartCode> | undefined;

/** The chart modules; a failed load is forgotten, so the next render tries again. */
export function loadChartCode(): Promise<ChartCode> {
  loading ??= Promise.all([import("./latency-chart"), import("./metric-chart")]).catch(
    (err: unknown) => {
      loading = undefined;
      throw err;
    },
  );
  return loading;
}

/**
 * Starts fetching the charts' code now. Never rejects: a failure shows where
 * a chart renders (and is retried there), not here. Resolves once loaded or
 * failed, for callers that want to wait (tests warming the module graph).
 */
export function preloadCharts(): Promise<void> {
  return loadChartCode().then(
    () => undefined,
    () => undefined,
  );
}
