import { pino } from "pino";
import type { Logger } from "../../../shared/logging/logger.js";
import { pollUntil } from "../../../testing/poll.js";

/** One pino line, parsed. */
export type MemoryLine = Record<string, unknown> & { msg?: string; level?: number };

/** A real pino logger that keeps its lines in memory, so tests can wait for what was logged. */
export function memoryLog(): {
  log: Logger;
  lines: MemoryLine[];
  waitFor: (
    predicate: (line: MemoryLine) => boolean,
    what: string,
    timeoutMs?: number,
  ) => Promise<MemoryLine>;
} {
  const lines: MemoryLine[] = [];
  const log = pino(
    { level: "debug" },
    {
      write(text: string) {
        lines.push(JSON.parse(text) as MemoryLine);
      },
    },
  );
  return {
    log,
    lines,
    waitFor: (predicate, what, timeoutMs = 20_000) =>
      pollUntil(() => lines.find(predicate), { timeoutMs, what: `log line: ${what}` }),
  };
}
