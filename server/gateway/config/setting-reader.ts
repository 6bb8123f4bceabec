import { readFileSync } from "node:fs";
import type { FlagValues } from "../../shared/cli/command.js";
import type { RawSetting } from "../../shared/cli/flags.js";
import { parseHostPort, type HostPort } from "../../shared/net/host-port.js";

/** How a setting's text is read; list kinds take several values (comma-separated in env). */
export type SettingKind =
  "listen" | "targets" | "ms" | "count" | "days" | "regexes" | "string" | "list" | "bool";

/** One row of a settings table: env var, kind, default (as text; none when absent) and lower bound. */
export interface SettingSpec {
  readonly env: string;
  readonly kind: SettingKind;
  readonly fallback?: string;
  readonly min?: number;
}

/**
 * Plain text settings without a default, each read from STALLWATCH_<FLAG>
 * (`operator-token-file` -> STALLWATCH_OPERATOR_TOKEN_FILE).
 */
export function textSettings<N extends string>(
  ...names: N[]
): Record<N, { readonly env: string; readonly kind: "string" }> {
  return Object.fromEntries(
    names.map((name) => [
      name,
      { env: `STALLWATCH_${name.toUpperCase().replaceAll("-", "_")}`, kind: "string" },
    ]),
  ) as Record<N, { readonly env: string; readonly kind: "string" }>;
}

/** Kinds whose flag repeats and whose env var is a comma-separated list. */
export function isListKind(kind: SettingKind): boolean {
  return kind === "targets" || kind === "list" || kind === "regexes";
}

/** `interval-ms` -> `intervalMs`: the config file's key for a flag. */
function configKey(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Reads a settings table's values: each parser reports what is wrong to the
 * `problems` list it was made with and returns the default instead, so every
 * problem is reported at once.
 */
export interface SettingReader<N extends string> {
  /** The raw value(s) of a setting and where they came from. */
  raw: (name: N) => RawSetting;
  /** A number, checked against the setting's `min`, times `scale` (days -> ms). */
  number: (name: N, scale?: number) => number;
  hostPort: (name: N, allowZero: boolean) => HostPort[];
  /** The first value; an empty one counts as not given. */
  text: (name: N) => string | undefined;
}

/**
 * Values come from flags, then environment variables, then the JSON file
 * named by `--config` / `STALLWATCH_CONFIG`, then the table's defaults.
 */
export function createSettingReader<T extends Readonly<Record<string, SettingSpec>>>(
  table: T,
  flags: FlagValues,
  env: NodeJS.ProcessEnv,
  problems: string[],
): SettingReader<keyof T & string> {
  const file = readConfigFile(flags, env, new Set(Object.keys(table).map(configKey)), problems);
  const spec = (name: keyof T & string): SettingSpec => table[name] as SettingSpec;

  const raw = (name: keyof T & string): RawSetting => {
    const flag = flags[name];
    if (flag !== undefined) {
      const values = (Array.isArray(flag) ? flag : [flag]).map(String);
      return { values, from: `--${name}` };
    }
    const setting = spec(name);
    const fromEnv = env[setting.env];
    if (fromEnv !== undefined && fromEnv !== "") {
      const values = isListKind(setting.kind)
        ? fromEnv
            .split(",")
            .map((v) => v.trim())
            .filter(Boolean)
        : [fromEnv];
      return { values, from: setting.env };
    }
    const fromFile = file[configKey(name)];
    if (fromFile !== undefined) {
      const values = (Array.isArray(fromFile) ? fromFile : [fromFile]).map(String);
      return { values, from: `config "${configKey(name)}"` };
    }
    const fallback = setting.fallback ?? "";
    return { values: fallback === "" ? [] : [fallback], from: "default" };
  };

  return {
    raw,
    number: (name, scale = 1) => {
      const setting = spec(name);
      const { values, from } = raw(name);
      const value = Number(values[0]);
      const min = setting.min ?? 0;
      if (!Number.isFinite(value) || value < min) {
        problems.push(`${from}: expected a number >= ${min}, got "${values[0] ?? ""}"`);
        return Number(setting.fallback) * scale;
      }
      return value * scale;
    },
    hostPort: (name, allowZero) => {
      const { values, from } = raw(name);
      return values.flatMap((v) => {
        try {
          return [parseHostPort(v, { allowZero })];
        } catch (err) {
          problems.push(`${from}: ${(err as Error).message}`);
          return [];
        }
      });
    },
    text: (name) => raw(name).values[0] || undefined,
  };
}

/** The `--config` JSON object, or {} (with a problem) when it cannot be used. */
function readConfigFile(
  flags: FlagValues,
  env: NodeJS.ProcessEnv,
  known: ReadonlySet<string>,
  problems: string[],
): Record<string, unknown> {
  const configPath = typeof flags.config === "string" ? flags.config : env.STALLWATCH_CONFIG;
  if (!configPath) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(configPath, "utf8"));
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new Error("not a JSON object");
    const file = parsed as Record<string, unknown>;
    for (const key of Object.keys(file))
      if (!known.has(key)) problems.push(`config file ${configPath}: unknown key "${key}"`);
    return file;
  } catch (err) {
    problems.push(`config file ${configPath}: ${(err as Error).message}`);
    return {};
  }
}
