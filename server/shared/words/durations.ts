/**
 * "92 s", "5 min", "1 h 3 min": how every duration reads, in the gateway's
 * outcomes and stall reasons and in snapshot summaries. `round` picks how
 * seconds are counted: to the nearest (a measured duration) or down (time
 * since, as the dashboard counts it).
 */
export function formatDuration(
  ms: number,
  round: (seconds: number) => number = Math.round,
): string {
  const s = Math.max(0, round(ms / 1000));
  if (s < 120) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
