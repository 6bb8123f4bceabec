import { existsSync } from "node:fs";
import { execFileSync } from "node:child_process";

/**
 * Journeys run the built product (`dist/`), exactly what `npm start` serves.
 * `npm test` builds before this runs; a bare `npx playwright test` builds here.
 */
export default function globalSetup(): void {
  if (existsSync("dist/server/main.js") && existsSync("dist/web/index.html")) return;
  execFileSync("npm", ["run", "build"], { stdio: "inherit", timeout: 180_000 });
}
