import { UsageError } from "./usage-error.js";
import { parseHostPort, type HostPort } from "../net/host-port.js";
import type { FlagValues } from "./command.js";

/** A setting's raw values and where they came from (`--flag`, an env var, a config file). */
export interface RawSetting {
  values: string[];
  from: string;
}

/** Reads a string flag, or the default. */
export function stringFlag(flags: FlagValues, name: string, fallback: string): string;
export function stringFlag(flags: FlagValues, name: string): string | undefined;
export function stringFlag(flags: FlagValues, name: string, fallback?: string) {
  const value = flags[name];
  return typeof value === "string" ? value : fallback;
}

/** Reads a repeatable string flag. */
export function stringListFlag(flags: FlagValues, name: string): string[] {
  const value = flags[name];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return typeof value === "string" ? [value] : [];
}

/** Parses `--name HOST:PORT`, turning a bad address into a UsageError. */
export function hostPortFlag(
  value: string,
  flagName: string,
  opts: { allowZero?: boolean } = {},
): HostPort {
  try {
    return parseHostPort(value, opts);
  } catch (err) {
    throw new UsageError(`--${flagName}: ${(err as Error).message}`);
  }
}

/** Parses a positive number flag such as `--interval-ms 1000`. */
export function numberFlag(flags: FlagValues, name: string, fallback: number, min = 1): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== "string" || !Number.isFinite(value) || value < min) {
    throw new UsageError(`--${name}: expected a number >= ${min}, got "${String(raw)}"`);
  }
  return value;
}
