import { existsSync } from "node:fs";

/** Debian's `prometheus` package (2.42): `npm test` installs it when missing. */
export const PROMTOOL = "/usr/bin/promtool";
export const PROMETHEUS = "/usr/bin/prometheus";

/**
 * The binary's path, or a loud failure: a test that needs Prometheus must
 * not pass by skipping itself on a machine without it.
 */
export function requireBinary(path: string): string {
  if (!existsSync(path))
    throw new Error(`${path} is missing: install Debian's "prometheus" package (npm test does)`);
  return path;
}
