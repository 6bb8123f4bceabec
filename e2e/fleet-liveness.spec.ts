import { expect, test } from "@playwright/test";
import { killAllStarted } from "../server/testing/spawn-stallwatch.js";
import { startTestGateway, type TestGateway } from "../server/testing/test-gateway.js";
import { startTestWorkers, type TestWorker } from "../server/testing/test-worker.js";

/**
 * The walking skeleton's green path in a real browser: real worker processes
 * → gateway over gRPC → Connect → a live row on the screen.
 */
test.describe("fleet page", () => {
  let workers: TestWorker[] = [];
  let gateway: TestGateway | undefined;

  test.beforeAll(async () => {
    workers = await startTestWorkers(["e2e-a", "e2e-b"]);
    gateway = await startTestGateway({ workers: workers.map((w) => w.address) });
  });

  test.afterAll(async () => {
    await Promise.all([...workers, ...(gateway ? [gateway] : [])].map((p) => p.stop()));
    killAllStarted();
  });

  test("shows both workers live, and one going unresponsive after SIGSTOP", async ({ page }) => {
    const [a, b] = workers;
    if (!a || !b || !gateway) throw new Error("fixtures did not start");
    const addrA = a.address;
    const addrB = b.address;
    await page.goto(String(gateway.listening.url));

    const rowA = page.getByRole("row").filter({ hasText: addrA });
    const rowB = page.getByRole("row").filter({ hasText: addrB });
    await expect(rowA).toContainText("healthy");
    await expect(rowB).toContainText("healthy");

    process.kill(b.pid, "SIGSTOP");
    try {
      await expect(rowB).toContainText("unresponsive", { timeout: 20_000 });
      await expect(rowA).toContainText("healthy");
      await expect(page.getByRole("alert")).toContainText(/1 worker unresponsive/i);
    } finally {
      process.kill(b.pid, "SIGCONT");
    }
    await expect(rowB).toContainText("healthy", { timeout: 20_000 });
  });

  test("opens a worker's page from its row as a deep link", async ({ page }) => {
    const a = workers[0];
    if (!a || !gateway) throw new Error("fixtures did not start");
    const addrA = a.address;
    await page.goto(String(gateway.listening.url));
    await page.getByRole("link", { name: addrA }).click();
    await expect(page).toHaveURL(new RegExp(`/workers/${encodeURIComponent(addrA)}$`));
    await expect(page.getByRole("heading", { name: addrA })).toBeVisible();
    await page.reload();
    await expect(page.getByRole("heading", { name: addrA })).toBeVisible();
  });
});
