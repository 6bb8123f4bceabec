import { availableParallelism } from "node:os";
import type { RawSetting } from "../../shared/cli/flags.js";
import type { SettingReader } from "./setting-reader.js";

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
  "interval-ms": { env: "STALLWATCH_INTERVAL_MS", kind: "ms", fallback: "1000", min: 10 },
  "deadline-ms": { env: "STALLWATCH_DEADLINE_MS", kind: "ms", fallback: "1000", min: 10 },
  "unresponsive-after": {
    env: "STALLWATCH_UNRESPONSIVE_AFTER",
    kind: "count",
    fallback: "3",
    min: 1,
  },
  "retention-ms": {
    env: "STALLWATCH_RETENTION_MS",
    kind: "ms",
    fallback: String(15 * 60_000),
    min: 1000,
  },
  "probe-threads": {
    env: "STALLWATCH_PROBE_THREADS",
    kind: "count",
    fallback: String(defaultProbeThreads()),
    min: 0,
  },
} as const;

type ProbeSettingName = keyof typeof PROBE_SETTINGS;

export interface ProbeSettings {
  intervalMs: number;
  deadlineMs: number;
  unresponsiveAfter: number;
  /** Worker threads that probe (`--probe-threads`); 0 probes on the main thread. */
  probeThreads: number;
  /** Round-trip and metric history kept. */
  retentionMs: number;
}

export function loadProbeSettings(
  read: Pick<SettingReader<ProbeSettingName>, "raw" | "number">,
  problems: string[],
): ProbeSettings {
  return {
    intervalMs: read.number("interval-ms"),
    deadlineMs: read.number("deadline-ms"),
    unresponsiveAfter: read.number("unresponsive-after"),
    probeThreads: loadProbeThreads(read.raw("probe-threads"), problems),
    retentionMs: read.number("retention-ms"),
  };
}

/** `--probe-threads N`: worker threads that probe; 0 probes on the main thread. */
function loadProbeThreads(raw: RawSetting, problems: string[]): number {
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
