/**
 * Redaction of secrets in thread-dump text before it is stored or served.
 * Frames and Beam text can carry tokens (a URL with credentials, a
 * `password=` argument): each pattern's matches become `[REDACTED]`, keeping
 * the key so the reader still sees what was there.
 */
export type Redactor = (text: string) => string;

export const DEFAULT_REDACTION_PATTERNS = [
  // key=value / key: value for common secret names
  String.raw`(?<key>(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)\w*["']?\s*[=:]\s*["']?)[^\s"',;&)]+`,
  // Authorization: Bearer xxx
  String.raw`(?<key>bearer\s+)[A-Za-z0-9._~+/=-]+`,
  // scheme://user:password@host
  String.raw`(?<key>[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+(?=@)`,
];

/** Builds a redactor from regex sources (case-insensitive); a `key` group is kept. */
export function createRedactor(patterns: readonly string[] = DEFAULT_REDACTION_PATTERNS): Redactor {
  const compiled = patterns.map((p) => new RegExp(p, "gi"));
  return (text) => {
    let out = text;
    for (const re of compiled) {
      out = out.replace(re, (...args: unknown[]) => {
        const groups = args.at(-1) as Record<string, string | undefined> | undefined;
        return `${groups?.key ?? ""}[REDACTED]`;
      });
    }
    return out;
  };
}
