import { execFileSync } from "node:child_process";

/**
 * Vitest globalSetup for real-process tests: compile the server once so the
 * processes under test are exactly what `npx stallwatch` runs.
 * Set STALLWATCH_SKIP_BUILD=1 when the caller (npm test) just built it.
 */
export default function setup(): void {
  if (process.env.STALLWATCH_SKIP_BUILD === "1") return;
  execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { stdio: "inherit", timeout: 120_000 });
}
