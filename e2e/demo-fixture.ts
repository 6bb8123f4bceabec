import { test as base } from "@playwright/test";
import { E2E_PORT_BASE } from "./ports.js";
import {
  freshDbPath,
  startStallwatch,
  type StallwatchProcess,
} from "../server/testing/spawn-stallwatch.js";

export const OPERATOR_TOKEN = "e2e-operator-token";

/**
 * The real demo (`stallwatch demo`, what `npm start` runs) on fixed ports
 * below the ephemeral range, one per test file, stopped afterwards.
 */
export const test = base.extend<object, { demo: { url: string; process: StallwatchProcess } }>({
  demo: [
    // Playwright reads fixture dependencies from this destructuring; this fixture has none.
    // eslint-disable-next-line no-empty-pattern
    async ({}, use, workerInfo) => {
      const port = E2E_PORT_BASE + workerInfo.workerIndex * 10;
      const demo = await startStallwatch(
        [
          "demo",
          "--http",
          `127.0.0.1:${port}`,
          "--grpc",
          `127.0.0.1:${port + 1}`,
          "--operator-token",
          OPERATOR_TOKEN,
          "--db",
          freshDbPath(),
        ],
        { startTimeoutMs: 60_000 },
      ).catch((err: unknown) => {
        throw new Error(`the demo did not start: ${(err as Error).message}`);
      });
      await demo.waitForLog((l) => l.msg === "demo ready", 60_000);
      await use({ url: `http://127.0.0.1:${port}`, process: demo });
      await demo.stop(15_000);
    },
    { scope: "worker", timeout: 90_000 },
  ],
});

export { expect } from "@playwright/test";
