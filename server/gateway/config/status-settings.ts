/**
 * Status collection settings (sessions and thread dumps from agents and Beam
 * harnesses), spread into the gateway's settings table. Defaults are the
 * cadences the README describes; the Beam caps are the ones the hostile-peer
 * tests exercise.
 */
export const STATUS_SETTINGS = {
  "status-interval-ms": {
    env: "STALLWATCH_STATUS_INTERVAL_MS",
    kind: "ms",
    fallback: "10000",
    min: 1000,
  },
  "watched-status-interval-ms": {
    env: "STALLWATCH_WATCHED_STATUS_INTERVAL_MS",
    kind: "ms",
    fallback: "2000",
    min: 500,
  },
  "max-dumps-per-second": {
    env: "STALLWATCH_MAX_DUMPS_PER_SECOND",
    kind: "count",
    fallback: "500",
    min: 1,
  },
  "beam-status-deadline-ms": {
    env: "STALLWATCH_BEAM_STATUS_DEADLINE_MS",
    kind: "ms",
    fallback: "3000",
    min: 100,
  },
  "max-beam-streams": {
    env: "STALLWATCH_MAX_BEAM_STREAMS",
    kind: "count",
    fallback: "10000",
    min: 1,
  },
  "max-beam-streams-per-connection": {
    env: "STALLWATCH_MAX_BEAM_STREAMS_PER_CONNECTION",
    kind: "count",
    fallback: "4",
    min: 1,
  },
} as const;

/** What the gateway takes from STATUS_SETTINGS. */
export interface StatusSettings {
  /** Every agent and Beam harness is asked for its status this often. */
  statusIntervalMs: number;
  /** ...and this often while someone watches it live. */
  watchedStatusIntervalMs: number;
  maxDumpsPerSecond: number;
  beamStatusDeadlineMs: number;
  maxBeamStreams: number;
  maxBeamStreamsPerConnection: number;
}

export function loadStatusSettings(
  number: (name: keyof typeof STATUS_SETTINGS) => number,
  problems: string[],
): StatusSettings {
  const settings: StatusSettings = {
    statusIntervalMs: number("status-interval-ms"),
    watchedStatusIntervalMs: number("watched-status-interval-ms"),
    maxDumpsPerSecond: number("max-dumps-per-second"),
    beamStatusDeadlineMs: number("beam-status-deadline-ms"),
    maxBeamStreams: number("max-beam-streams"),
    maxBeamStreamsPerConnection: number("max-beam-streams-per-connection"),
  };
  if (settings.watchedStatusIntervalMs > settings.statusIntervalMs)
    problems.push(
      `--watched-status-interval-ms (${settings.watchedStatusIntervalMs}) must not be longer than --status-interval-ms (${settings.statusIntervalMs})`,
    );
  return settings;
}
