/** "now", "9 s", "4 min", "2 h 5 min", "3 d" — for "N ago" and durations. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  const s = Math.floor(ms / 1000);
  if (s < 1) return "now";
  if (s < 120) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d`;
}

/**
 * "9 s ago"; "never" for 0. A time slightly ahead of `nowMs` is "just now":
 * the gateway's clock stamps heartbeats, the browser's ticks `nowMs` once a
 * second, so a fresh beat is often a few hundred ms "in the future" (that
 * showed as "— ago" on healthy workers).
 */
export function ago(atMs: number | bigint, nowMs: number): string {
  const at = Number(atMs);
  if (!at) return "never";
  const d = formatDuration(Math.max(0, nowMs - at));
  return d === "now" ? "just now" : `${d} ago`;
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return "—";
  return ms < 10
    ? `${ms.toFixed(2)} ms`
    : ms < 100
      ? `${ms.toFixed(1)} ms`
      : `${Math.round(ms)} ms`;
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 && i > 0 ? v.toFixed(1) : Math.round(v)} ${units[i] ?? "B"}`;
}

/**
 * The clock's format, made once: `toLocaleTimeString` builds an
 * Intl.DateTimeFormat on every call, which was most of a profile page's
 * first render (26-35 ms cold in a Chromium trace) and is paid per row in
 * the tables. The options are the ones toLocaleTimeString fills in.
 */
let clock: Intl.DateTimeFormat | undefined;

export function formatClock(ms: number | bigint): string {
  const n = Number(ms);
  if (!n) return "—";
  clock ??= new Intl.DateTimeFormat([], {
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
    hour12: false,
  });
  return clock.format(n);
}

/** Cuts long worker-supplied text for a cell; the full text goes in a title. */
export function clip(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
