import "./sparkline.css";
/**
 * A tiny inline SVG line of recent values; drawn from plain numbers, no chart
 * library, so 10,000 rows cost nothing beyond the visible ones.
 */
export function Sparkline({
  values,
  width = 90,
  height = 22,
  label,
}: {
  values: readonly number[];
  width?: number;
  height?: number;
  label: string;
}) {
  if (values.length < 2) return <span className="sub">—</span>;
  const max = Math.max(...values, 1);
  const step = width / (values.length - 1);
  const points = values
    .map((v, i) => `${(i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`)
    .join(" ");
  return (
    <svg
      className="sparkline"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={label}
    >
      <polyline points={points} fill="none" stroke="currentColor" strokeWidth="1.5" />
    </svg>
  );
}
