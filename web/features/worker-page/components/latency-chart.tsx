import { useMemo } from "react";
import { CHART_MARGIN, clockLabel, TIME_AXIS } from "./time-axis";
import {
  CartesianGrid,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import type { BeatMisses, Series } from "../../../../gen/stallwatch/v1/fleet_pb";
import { formatClock } from "../../../shared/format";

export interface LatencyPoint {
  t: number;
  rtt: number;
  p50: number;
  p99: number;
}

/** Most missed-beat marks drawn: past this the chart would be a red wall. */
const MAX_MARKS = 200;

/**
 * Shapes round trips for the chart: each point carries a rolling p50/p99 over
 * the previous 30 samples. Missed beats are the gateway's own record
 * (`misses`) when it sent one; from an older gateway or snapshot, gaps longer
 * than 1.5 intervals stand in for them. Pure, tested with fixtures.
 */
export function shapeLatency(
  series: Series | undefined,
  misses?: BeatMisses,
  intervalMs = 1000,
): { points: LatencyPoint[]; missed: number[] } {
  const times = series?.timesMs ?? [];
  const values = series?.values ?? [];
  const points: LatencyPoint[] = [];
  const missed: number[] = [];
  const window: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const t = Number(times[i] ?? 0n);
    const rtt = values[i] ?? 0;
    window.push(rtt);
    if (window.length > 30) window.shift();
    const sorted = [...window].sort((a, b) => a - b);
    const at = (p: number) =>
      sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
    points.push({ t, rtt, p50: at(50), p99: at(99) });
    const prev = Number(times[i - 1] ?? 0n);
    if (!misses && i > 0 && t - prev > intervalMs * 1.5) {
      for (let m = prev + intervalMs; m < t - intervalMs / 2; m += intervalMs) missed.push(m);
    }
  }
  if (misses) return { points, missed: misses.timesMs.slice(-MAX_MARKS).map(Number) };
  return { points, missed: missed.slice(-MAX_MARKS) };
}

/** The lines of the chart, in the order of the legend. */
export const LATENCY_SERIES = [
  { key: "rtt", name: "round trip", color: "var(--fg-soft)", width: 1 },
  { key: "p50", name: "p50 (rolling, last 30 beats)", color: "var(--link)", width: 2 },
  { key: "p99", name: "p99 (rolling, last 30 beats)", color: "var(--warn-fg)", width: 2 },
] as const;

/** Which line is which, as text (colour alone never carries meaning). */
export function LatencyLegend({ missed }: { missed: number }) {
  return (
    <ul className="chart-legend" aria-label="Legend">
      {LATENCY_SERIES.map((s) => (
        <li key={s.key}>
          <span
            className="swatch"
            aria-hidden="true"
            style={{ borderTop: `${s.width + 1}px solid ${s.color}` }}
          />
          {s.name}
        </li>
      ))}
      <li>
        <span
          className="swatch"
          aria-hidden="true"
          style={{ borderTop: "2px dashed var(--bad-fg)" }}
        />
        {missed > 0 ? `missed beat (${missed})` : "missed beat (none)"}
      </li>
    </ul>
  );
}

/** Heartbeat round trips with rolling p50/p99; missed beats as red marks. */
export function LatencyChart({
  series,
  misses,
}: {
  series: Series | undefined;
  misses: BeatMisses | undefined;
}) {
  const { points, missed } = useMemo(() => shapeLatency(series, misses), [series, misses]);
  // Misses after the last answer (a worker that stopped answering) are the
  // marks that matter most: rows without values put them on the axis, ticks
  // and all, and the lines end at the last answer.
  const rows = useMemo(() => {
    const lastT = points.at(-1)?.t ?? -Infinity;
    const after = missed.filter((m) => m > lastT).map((t) => ({ t }));
    return after.length > 0 ? [...points, ...after] : points;
  }, [points, missed]);
  if (points.length === 0) {
    const last = missed.at(-1);
    return (
      <p className="sub">
        {last === undefined
          ? "No heartbeats in this window."
          : `No heartbeat answered in this window: ${missed.length} missed, the last at ${formatClock(last)}.`}
      </p>
    );
  }
  return (
    <figure className="chart" aria-label="Heartbeat latency chart">
      <ResponsiveContainer width="100%" height={220}>
        <LineChart data={rows} margin={CHART_MARGIN}>
          <CartesianGrid strokeDasharray="3 3" opacity={0.3} />
          <XAxis {...TIME_AXIS} />
          <YAxis unit=" ms" width={70} />
          <Tooltip labelFormatter={clockLabel} formatter={(v) => `${Number(v).toFixed(2)} ms`} />
          {missed.map((m) => (
            <ReferenceLine key={m} x={m} stroke="var(--bad-fg)" strokeDasharray="2 2" />
          ))}
          {LATENCY_SERIES.map((line) => (
            <Line
              key={line.key}
              dataKey={line.key}
              name={line.name}
              dot={false}
              isAnimationActive={false}
              stroke={line.color}
              strokeWidth={line.width}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
      <figcaption className="sub">
        <LatencyLegend missed={missed.length} />
        The first beat of each connection is left out (it carries connection set-up).
      </figcaption>
    </figure>
  );
}
