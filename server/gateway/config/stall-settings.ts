/**
 * When a session counts as stalled and a thread as not moving, spread into
 * the gateway's settings table. Defaults are Beam's lull (5 minutes without
 * progress) and the README's 10 s for an unchanged stack.
 */
export const STALL_SETTINGS = {
  "stall-no-progress-ms": {
    env: "STALLWATCH_STALL_NO_PROGRESS_MS",
    kind: "ms",
    fallback: "300000",
    min: 100,
  },
  "stall-processing-ms": {
    env: "STALLWATCH_STALL_PROCESSING_MS",
    kind: "ms",
    fallback: "300000",
    min: 100,
  },
  "not-moving-ms": { env: "STALLWATCH_NOT_MOVING_MS", kind: "ms", fallback: "10000", min: 0 },
} as const;

export interface StallSettings {
  stallNoProgressMs: number;
  stallProcessingMs: number;
  notMovingMs: number;
}

export function loadStallSettings(
  number: (name: keyof typeof STALL_SETTINGS) => number,
): StallSettings {
  return {
    stallNoProgressMs: number("stall-no-progress-ms"),
    stallProcessingMs: number("stall-processing-ms"),
    notMovingMs: number("not-moving-ms"),
  };
}
