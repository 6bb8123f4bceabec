import { CHART_MARGIN, clockLabel, TIME_AXIS } from "./time-axis";
import { Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { MetricSeries } from "../../../../gen/stallwatch/v1/fleet_pb";

/** One worker metric over time (already shaped by the gateway). */
export function MetricChart({ metric }: { metric: MetricSeries | undefined }) {
  const times = metric?.series?.timesMs ?? [];
  const values = metric?.series?.values ?? [];
  const data = values.map((v, i) => ({ t: Number(times[i] ?? 0n), v }));
  if (data.length === 0) return <p className="sub">No samples in this window.</p>;
  return (
    <ResponsiveContainer width="100%" height={160}>
      <LineChart data={data} margin={CHART_MARGIN}>
        <XAxis {...TIME_AXIS} />
        <YAxis width={80} />
        <Tooltip labelFormatter={clockLabel} />
        <Line
          dataKey="v"
          name={metric?.name ?? ""}
          dot={false}
          isAnimationActive={false}
          stroke="var(--link)"
          strokeWidth={2}
        />
      </LineChart>
    </ResponsiveContainer>
  );
}
