import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { pino, type Logger } from "pino";
import { FdWriter } from "./fd-writer.js";
import { formatPretty } from "./pretty.js";

export type { Logger };

export type LogFormat = "json" | "pretty";

export const LOG_FORMATS: readonly LogFormat[] = ["json", "pretty"];

export interface LogOptions {
  /** Default: pretty on a terminal, JSON when piped (what supervisors and tests read). */
  format?: LogFormat | undefined;
  /** Every line as JSON to this file; the terminal then shows only what matters. */
  file?: string | undefined;
}

/**
 * Info lines a person at the terminal wants to see when the full log goes
 * to a file; everything at warn and above is shown too.
 */
const NOTABLE = new Set([
  "liveness changed",
  "session stalled",
  "action started",
  "action ended",
  "snapshot created",
  "stopping",
  "stopped",
]);

/**
 * Where log lines go: JSON or pretty on stdout, and everything as JSON to a
 * file when one is set. The demo relays its children's lines through here,
 * so one terminal shows the whole demo in one format.
 */
class LogSink {
  private file: string | undefined;
  /**
   * An asynchronous stdout writer, flushed on exit within a bound: a line
   * reaches a reader after the current tick, everything written here (our
   * lines, relayed lines, the banner) keeps its order, and a reader that is
   * gone (EPIPE) or stuck never holds the process (fd-writer.ts says why not
   * pino's own destination).
   */
  private readonly stdout = new FdWriter(1);
  constructor(
    readonly format: LogFormat,
    file: string | undefined,
  ) {
    this.useFile(file);
  }

  get logFile(): string | undefined {
    return this.file;
  }

  useFile(file: string | undefined, { truncate = false } = {}): void {
    if (file) {
      mkdirSync(dirname(file), { recursive: true });
      if (truncate) writeFileSync(file, "");
    }
    this.file = file;
  }

  /** Text for the person at the terminal (the demo's banner), in order with the log. */
  print(text: string): void {
    this.stdout.write(text);
  }

  /** One JSON line from pino (newline-terminated). */
  write(line: string): void {
    if (this.file) {
      try {
        appendFileSync(this.file, line.endsWith("\n") ? line : `${line}\n`);
      } catch {
        // A full disk must not take the process down through its logger.
      }
    }
    if (this.format === "json" && !this.file) {
      this.stdout.write(line.endsWith("\n") ? line : `${line}\n`);
      return;
    }
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const level = typeof entry.level === "number" ? entry.level : 30;
    if (this.file && level < 40 && !NOTABLE.has(String(entry.msg))) return;
    this.stdout.write(
      this.format === "json"
        ? `${line.trimEnd()}\n`
        : `${formatPretty(entry, process.stdout.isTTY)}\n`,
    );
  }
}

let sink: LogSink | undefined;

/** JSON unless stdout is a terminal; `--log-format` or `STALLWATCH_LOG_FORMAT` decide otherwise. */
export function resolveLogFormat(
  requested: string | undefined = process.env.STALLWATCH_LOG_FORMAT,
  isTTY = process.stdout.isTTY,
): LogFormat {
  if (requested === "json" || requested === "pretty") return requested;
  return isTTY ? "pretty" : "json";
}

/**
 * Creates the process logger. JSON lines on stdout unless stdout is a
 * terminal (then one short human line each); children spawned by the demo
 * and by tests have no terminal, so they always speak JSON (their parents
 * wait for the `listening` line to learn an ephemeral port).
 *
 * `LOG_LEVEL` overrides the level (default `info`).
 */
export function createLogger(
  name: string,
  options: LogOptions = {},
  level = process.env.LOG_LEVEL ?? "info",
): Logger {
  sink = new LogSink(options.format ?? resolveLogFormat(), options.file);
  return pino({ name, level, base: { pid: process.pid } }, sink);
}

/** The process's log output, for commands that relay other processes' lines. */
export function logOutput(): {
  format: LogFormat;
  file: string | undefined;
  relay(entry: Record<string, unknown>): void;
  print(text: string): void;
  useFile(file: string, options?: { truncate?: boolean }): void;
} {
  const current = (sink ??= new LogSink(resolveLogFormat(), undefined));
  return {
    format: current.format,
    file: current.logFile,
    relay: (entry) => current.write(JSON.stringify(entry)),
    print: (text) => current.print(text),
    useFile: (file, options) => current.useFile(file, options),
  };
}
