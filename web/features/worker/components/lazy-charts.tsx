import { lazy, Suspense, type ComponentProps } from "react";

// recharts is most of the bundle's weight and only worker views draw charts:
// it loads with the first chart, never on the fleet's first paint.
const LatencyChartImpl = lazy(() =>
  import("./latency-chart").then((m) => ({ default: m.LatencyChart })),
);
const MetricChartImpl = lazy(() =>
  import("./metric-chart").then((m) => ({ default: m.MetricChart })),
);

const loading = (height: number) => (
  <div className="chart-loading sub" style={{ height }}>
    Loading chart…
  </div>
);

export function LatencyChart(props: ComponentProps<typeof LatencyChartImpl>) {
  return (
    <Suspense fallback={loading(220)}>
      <LatencyChartImpl {...props} />
    </Suspense>
  );
}

export function MetricChart(props: ComponentProps<typeof MetricChartImpl>) {
  return (
    <Suspense fallback={loading(160)}>
      <MetricChartImpl {...props} />
    </Suspense>
  );
}
