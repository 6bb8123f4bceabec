import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The demo's policy file, `server/demo/policies.yaml`: found upwards from
 * this file, which runs from `server/demo/` in tests and from
 * `dist/server/demo/` in the built product (the YAML is not compiled).
 */
export function demoPolicyFile(from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "server", "demo", "policies.yaml");
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}
