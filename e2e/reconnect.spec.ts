import { expect, test } from "@playwright/test";
import {
  freshDbPath,
  killAllStarted,
  startStallwatch,
  type StallwatchProcess,
} from "../server/testing/spawn-stallwatch.js";
import { E2E_PORT_BASE } from "./ports.js";

const HTTP = `127.0.0.1:${E2E_PORT_BASE + 90}`;
const GRPC = `127.0.0.1:${E2E_PORT_BASE + 91}`;

/** The gateway restarts; the open page notices, says how stale its data is, and reconnects by itself. */
test("the page reconnects by itself after the gateway restarts", async ({ page }) => {
  const db = freshDbPath();
  const start = () =>
    startStallwatch(["gateway", "--http", HTTP, "--grpc", GRPC], {
      env: { STALLWATCH_DB: db },
    });
  let gateway: StallwatchProcess = await start();
  const worker = await startStallwatch([
    "worker",
    "--listen",
    "127.0.0.1:0",
    "--id",
    "rc-1",
    "--gateway",
    GRPC,
  ]);
  try {
    await page.goto(`http://${HTTP}/`);
    const status = page.getByRole("status").first();
    await expect(status).toHaveText("live");
    await expect(page.getByRole("row").filter({ hasText: "rc-1" })).toContainText("healthy");

    await gateway.stop();
    await expect(status).toContainText(/reconnecting… data as of \d\d:\d\d:\d\d/, {
      timeout: 30_000,
    });
    gateway = await start();
    await expect(status).toHaveText("live", { timeout: 30_000 });
    await expect(page.getByRole("row").filter({ hasText: "rc-1" })).toContainText("healthy", {
      timeout: 30_000,
    });
  } finally {
    await Promise.all([worker.stop(), gateway.stop()]);
    killAllStarted();
  }
});
