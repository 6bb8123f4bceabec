import { expect, test } from "@playwright/test";
import {
  freshDbPath,
  killAllStarted,
  startStallwatch,
  type StallwatchProcess,
} from "../server/testing/spawn-stallwatch.js";

/** The gateway restarts; the open page notices, says how stale its data is, and reconnects by itself. */
test("the page reconnects by itself after the gateway restarts", async ({ page }) => {
  const db = freshDbPath();
  const start = () =>
    startStallwatch(["gateway", "--http", "127.0.0.1:18290", "--grpc", "127.0.0.1:18291"], {
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
    "127.0.0.1:18291",
  ]);
  try {
    await page.goto("http://127.0.0.1:18290/");
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
