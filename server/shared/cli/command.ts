import type { ParseArgsConfig } from "node:util";
import type { Logger } from "../logging/logger.js";

/** Flag values as `node:util` parseArgs returns them. */
export type FlagValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

/** What a running command gives back so the CLI can stop it on a signal. */
export interface Running {
  /** Stops accepting work and releases everything; resolves when done. */
  stop(): Promise<void>;
  /** Resolves when the command ended by itself (e.g. a drained worker). */
  readonly done?: Promise<number>;
  /** How long `stop()` may take before the process exits anyway (default 5 s). */
  readonly stopTimeoutMs?: number;
}

/** One `stallwatch <name>` subcommand. */
export interface Command {
  name: string;
  summary: string;
  /** Full `--help` text. */
  help: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  /** Validates flags (throwing UsageError), starts, and returns a handle. */
  run(flags: FlagValues, log: Logger): Promise<Running>;
}
