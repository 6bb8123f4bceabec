/**
 * Command-line flags by name without the dashes; a list repeats the flag
 * (`{ "trusted-proxy": ["a", "b"] }` → `--trusted-proxy a --trusted-proxy b`).
 */
export type CliFlags = Readonly<Record<string, string | number | readonly (string | number)[]>>;

/** `flags` as argv words, in the order they were written. */
export function flagArgs(flags: CliFlags = {}): string[] {
  return Object.entries(flags).flatMap(([name, value]) =>
    (Array.isArray(value) ? value : [value]).flatMap((v: string | number) => [
      `--${name}`,
      String(v),
    ]),
  );
}
