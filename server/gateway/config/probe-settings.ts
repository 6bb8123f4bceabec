import { availableParallelism } from "node:os";
import type { RawSetting } from "../../shared/cli/flags.js";

/** Most probe threads one gateway starts: past this, run another gateway. */
const MAX_PROBE_THREADS = 16;

/**
 * One probe thread per core, at least one: the main thread mostly waits
 * (applying beat records, serving the dashboard), so the probe threads get the
 * cores. Measured in bench/probe-cpu.bench.ts.
 */
export function defaultProbeThreads(): number {
  return Math.max(1, Math.min(MAX_PROBE_THREADS, availableParallelism()));
}

/** Heartbeat probing settings, spread into the gateway's settings table. */
export const PROBE_SETTINGS = {
  "probe-threads": {
    env: "STALLWATCH_PROBE_THREADS",
    kind: "count",
    fallback: String(defaultProbeThreads()),
    min: 0,
  },
} as const;

/** `--probe-threads N`: worker threads that probe; 0 probes on the main thread. */
export function loadProbeThreads(raw: RawSetting, problems: string[]): number {
  const text = raw.values[0] ?? "";
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > MAX_PROBE_THREADS) {
    problems.push(
      `${raw.from}: expected a whole number from 0 to ${MAX_PROBE_THREADS}, got "${text}"`,
    );
    return defaultProbeThreads();
  }
  return value;
}
