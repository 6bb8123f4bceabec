import { lazy, Suspense, type ComponentProps } from "react";
import { loadChartCode } from "./chart-code";

// recharts is most of the bundle's weight and only worker views draw charts:
// it never loads with the fleet's first paint (see chart-code.ts for when it does).
const LatencyChartImpl = lazy(() =>
  loadChartCode().then(([latency]) => ({ default: latency.LatencyChart })),
);
const MetricChartImpl = lazy(() =>
  loadChartCode().then(([, metric]) => ({ default: metric.MetricChart })),
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
