import { readFileSync } from "node:fs";
import type { RawSetting } from "./flags.js";

/** Shorter tokens are refused at start (gateway, demo): they can be guessed online. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * Resolves one bearer token from `--NAME-token` or `--NAME-token-file`
 * (whose content is trimmed, so a trailing newline is fine). Problems go to
 * `problems`; a token given as a command-line flag adds a warning, since any
 * local user can read it in `ps`.
 */
export function resolveToken(
  label: string,
  direct: RawSetting,
  file: RawSetting,
  problems: string[],
  warnings: string[],
): string | undefined {
  const directValue = direct.values[0] || undefined;
  const path = file.values[0] || undefined;
  if (directValue !== undefined && path !== undefined) {
    problems.push(`${label} token: give ${direct.from} or ${file.from}, not both`);
    return undefined;
  }
  let token = directValue;
  let from = direct.from;
  if (path !== undefined) {
    from = `${file.from} ${path}`;
    try {
      token = readFileSync(path, "utf8").trim();
    } catch (err) {
      problems.push(
        `${from}: cannot read the ${label} token (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
      return undefined;
    }
  }
  if (token === undefined) return undefined;
  if (token.length < MIN_TOKEN_LENGTH) {
    problems.push(
      `${from}: the ${label} token must be at least ${MIN_TOKEN_LENGTH} characters (got ${token.length}); e.g. \`openssl rand -base64 24\``,
    );
    return undefined;
  }
  if (!/^[\x21-\x7e]+$/.test(token)) {
    problems.push(`${from}: the ${label} token must be printable ASCII without spaces`);
    return undefined;
  }
  if (direct.from.startsWith("--") && directValue !== undefined) {
    warnings.push(
      `${direct.from} is visible to every local user in \`ps\`; prefer ${file.from.startsWith("--") ? file.from : `--${label}-token-file`} or the environment`,
    );
  }
  return token;
}
