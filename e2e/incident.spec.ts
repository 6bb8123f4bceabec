import { expect, OPERATOR_TOKEN, test } from "./demo-fixture.js";

/**
 * The on-call journeys, in Chromium against the real demo: find what is
 * stuck, act on it safely, share what was seen.
 */
test.describe.configure({ mode: "serial" });

test("find the hung session from the banner, see its thread not moving, cancel it with a reason, see the audit record", async ({
  page,
  demo,
}) => {
  await page.goto(`${demo.url}/#operator-token=${OPERATOR_TOKEN}`);
  // The token moves to session storage and leaves the address bar.
  await expect(page).toHaveURL(`${demo.url}/`);
  const banner = page.getByRole("alert");
  await expect(banner).toContainText(/sessions? stalled/, { timeout: 60_000 });
  await banner.getByRole("link", { name: /stalled/ }).click();
  await expect(page).toHaveURL(/\/stalled$/);

  const hung = page.getByRole("row").filter({ hasText: "demo-1" }).filter({ hasText: "hang" });
  await expect(hung).toBeVisible({ timeout: 30_000 });
  // Issue 11, bug 7: the thread is called the same here and in the dump.
  const threadName = (await hung.getByRole("link", { name: /^udf-\d+$/ }).textContent()) ?? "";
  await hung.getByRole("link", { name: "demo-1" }).click();
  await expect(page.getByRole("heading", { name: "demo-1" })).toBeVisible();

  // Its thread, live: not moving, stuck in user code.
  await page.getByRole("tab", { name: "Live thread dump" }).click();
  const stuck = page.locator(".thread-groups .group").filter({ hasText: "blockForever" });
  await expect(stuck.getByText(/not moving for/)).toBeVisible({ timeout: 30_000 });
  await expect(stuck.locator(".group-head strong")).toHaveText(threadName);

  // Cancel it, with a reason.
  await page.getByRole("tab", { name: "Overview" }).click();
  const session = page.locator("tr.stalled").filter({ hasText: "hang" });
  await session.getByRole("button", { name: "Cancel" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText("its thread is terminated");
  await expect(dialog.getByRole("button", { name: "Cancel session now" })).toBeDisabled();
  await dialog.getByLabel(/Reason/).fill("stuck in user code, e2e journey");
  await dialog.getByRole("button", { name: "Cancel session now" }).click();
  await expect(dialog.getByRole("status")).toContainText(
    /cancel escalated: thread terminated after/,
    { timeout: 30_000 },
  );
  // Issue 11, bug 1: the session's row goes, the outcome stays until dismissed.
  await expect(page.locator("tr[data-session-id]").filter({ hasText: "hang" })).toHaveCount(0, {
    timeout: 20_000,
  });
  await page.waitForTimeout(3500);
  await expect(dialog.getByRole("status")).toContainText(/cancel escalated/);
  await dialog.getByRole("link", { name: "Audit record" }).click();
  const record = page.getByRole("row").filter({ hasText: "stuck in user code, e2e journey" });
  await expect(record).toContainText("succeeded");
  await expect(record).toContainText("operator (token)");
  // The record of this very action is marked.
  await expect(record).toHaveAttribute("aria-current", "true");
});

test("drain a worker, watch the progress, see it exit", async ({ page, demo }) => {
  await page.goto(`${demo.url}/#operator-token=${OPERATOR_TOKEN}`);
  await page.goto(`${demo.url}/workers/demo-6`);
  await expect(page.getByRole("heading", { name: "demo-6" })).toBeVisible();
  await page.getByRole("button", { name: "Drain", exact: true }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText(/Drain lets \d+ sessions? finish/);
  const plan = (await dialog.locator(".consequence").textContent()) ?? "";
  await dialog.getByLabel(/Reason/).fill("rolling restart, e2e journey");
  await dialog.getByRole("button", { name: "Drain worker now" }).click();
  await expect(dialog.getByRole("status")).toContainText(/draining|drained/, { timeout: 15_000 });
  await expect(dialog.getByRole("status")).toContainText(
    /drained: \d+ sessions? finished in \d+ s, worker exited/,
    { timeout: 60_000 },
  );
  // Issue 19.3: what was confirmed stays, as a record, not as a promise still pending.
  await expect(dialog.locator(".consequence")).toHaveText(`You confirmed: ${plan}`);
  await dialog.getByRole("button", { name: "Close" }).click();
  await expect(page.locator(".page-head .badge")).toHaveText("exited", { timeout: 15_000 });
  // Issue 11, bug 5: nothing left to drain or cancel.
  await expect(page.getByRole("button", { name: "Drain", exact: true })).toBeDisabled();
  await expect(page.getByRole("button", { name: "Cancel all" })).toBeDisabled();
  await expect(page.getByText("the worker has exited").first()).toBeVisible();
});

test("share a snapshot and open the permalink in a fresh browser: the same content, frozen", async ({
  page,
  browser,
  demo,
}) => {
  await page.goto(`${demo.url}/workers/demo-1`);
  await expect(page.getByRole("heading", { name: "demo-1" })).toBeVisible();
  await page.locator(".page-head").getByRole("button", { name: "Share snapshot" }).click();
  const link = page.locator(".page-head").getByRole("status").getByRole("link");
  await expect(link).toBeVisible({ timeout: 15_000 });
  const permalink = await link.getAttribute("href");
  // Issue 11, bug 4: a worker's snapshot links to that worker's page.
  expect(permalink).toMatch(/\/snapshots\/[A-Za-z0-9_-]{22,}\/workers\/demo-1$/);

  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  const errors: string[] = [];
  other.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await other.goto(permalink ?? "");
  await expect(other.getByRole("note")).toContainText(/Snapshot taken .* of worker demo-1/);
  await expect(other.getByRole("heading", { name: "demo-1" })).toBeVisible();
  await expect(other.getByRole("heading", { name: "Heartbeat latency" })).toBeVisible();
  const frozenLastBeat = await other.locator(".facts dd").nth(3).textContent();
  await other.waitForTimeout(2500);
  // Frozen: nothing ticks while the live fleet moves on.
  await expect(other.locator(".facts dd").nth(3)).toHaveText(frozenLastBeat ?? "");
  await expect(other.getByRole("button", { name: "Drain" })).toHaveCount(0);

  await other.goto(`${demo.url}/snapshots/AAAAAAAAAAAAAAAAAAAAAA`);
  await expect(other.getByRole("heading", { name: "Snapshot not found" })).toBeVisible();
  // Issue 11, bug 6: an unknown id is a page, not a console error (nor a missing favicon).
  expect(errors).toEqual([]);
  await fresh.close();
});

test("a viewer without the token sees actions disabled, with the reason", async ({
  browser,
  demo,
}) => {
  const viewer = await browser.newContext();
  const page = await viewer.newPage();
  await page.goto(`${demo.url}/workers/demo-2`);
  await expect(page.getByRole("heading", { name: "demo-2" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Drain", exact: true })).toBeDisabled();
  await expect(page.getByRole("button", { name: "Cancel all" })).toBeDisabled();
  await expect(
    page.getByText(/Actions need the operator role: no operator token sent/).first(),
  ).toBeVisible();
  await viewer.close();
});
