import { pino, type Logger } from "pino";

export type { Logger };

/**
 * Creates the process logger: one JSON object per line on stdout, which is
 * what supervisors and our integration tests read (they wait for the
 * `listening` line to learn an ephemeral port).
 *
 * `LOG_LEVEL` overrides the level (default `info`).
 */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}
