import { readFileSync } from "node:fs";
import { expect, OPERATOR_TOKEN, test } from "./demo-fixture.js";

/**
 * Issue 22: an operator profiles the demo's spinning worker in CPU mode,
 * reads where the time goes (py-spy's table, the flame graph), exports it,
 * and shares it: the snapshot's permalink shows the same profile.
 */
test("profile the spinning worker in CPU mode: table, flame graph, exports, snapshot permalink", async ({
  page,
  demo,
}) => {
  test.setTimeout(150_000);
  await page.goto(`${demo.url}/workers/demo-3#operator-token=${OPERATOR_TOKEN}`);
  // The spin session starts within the demo's first minute.
  await expect(page.locator("tr[data-session-id]").first()).toBeVisible({ timeout: 60_000 });

  // The profile is followed in a Web Worker (its decode off the main thread), with the
  // operator token's header like the app's own calls.
  const workers: string[] = [];
  page.on("worker", (w) => workers.push(w.url()));
  const watchAuth: (string | undefined)[] = [];
  page.on("request", (req) => {
    if (req.url().endsWith("/stallwatch.v1.ProfileService/WatchProfile"))
      watchAuth.push(req.headers().authorization);
  });

  await page.getByRole("button", { name: "Profile", exact: true }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel(/CPU: only samples/).check();
  await dialog.getByLabel(/Duration/).fill("3");
  await dialog.getByLabel(/Reason/).fill("where does demo-3's CPU go, e2e journey");
  await dialog.getByRole("button", { name: "Start profile" }).click();

  // The profile is a link of its own, with progress while it samples.
  await expect(page).toHaveURL(/\/workers\/demo-3\/profiles\/ui-[\w-]+$/);
  const profileUrl = page.url();
  await expect(page.getByRole("heading", { name: "Where the time goes" })).toBeVisible({
    timeout: 30_000,
  });

  expect(workers.filter((url) => /\/profile-stream\.worker-[\w-]+\.js$/.test(url))).toHaveLength(1);
  expect(watchAuth.length).toBeGreaterThan(0);
  expect(watchAuth.every((a) => a === `Bearer ${OPERATOR_TOKEN}`)).toBe(true);
  // The finished profile came from the worker: the main thread copied it (stallwatch:profile-copy).
  expect(
    await page.evaluate(() => performance.getEntriesByName("stallwatch:profile-copy").length),
  ).toBeGreaterThanOrEqual(1);

  // py-spy's table, sorted by %Own: the spinning function on top.
  const firstRow = page.locator(".profile-table tbody tr").first();
  await expect(firstRow).toContainText("process");
  await expect(firstRow).toContainText(/demo-udfs\.js:\d+/);
  const ownPct = Number(/([\d.]+)%/.exec((await firstRow.textContent()) ?? "")?.[1]);
  expect(ownPct).toBeGreaterThanOrEqual(50);

  // The flame graph: drawn, searchable, zoomable.
  const canvas = page.locator('.flame-host[data-ready="true"] canvas');
  await expect(canvas).toBeVisible();
  expect(Number(await canvas.getAttribute("data-drawn"))).toBeGreaterThan(3);
  await page.getByLabel("Search frames").fill("process");
  await expect(page.locator(".flame-tools [role=status]")).toContainText(
    /samples \((9\d|100)(\.\d)?%\) in matching frames/,
  );
  await page.getByLabel("Search frames").fill("");
  // Find the spinning frame's row by hovering down the middle of the graph, then zoom to it.
  const rowsDrawn = Number(await canvas.getAttribute("data-rows"));
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  if (!box) throw new Error("the flame graph has no box");
  const details = page.locator(".flame-details");
  let row = -1;
  for (let r = 0; r < rowsDrawn && row < 0; r++) {
    await page.mouse.move(box.x + box.width / 2, box.y + r * 18 + 9);
    // One frame later React has shown what the hover said.
    await page.evaluate("new Promise((resolve) => requestAnimationFrame(resolve))");
    if (/^process \(/.test((await details.textContent()) ?? "")) row = r;
  }
  expect(row, "a row whose middle frame is the spinning function").toBeGreaterThan(0);
  await page.mouse.click(box.x + box.width / 2, box.y + row * 18 + 9);
  await expect(page.locator(".flame-tools [role=status]")).toContainText("zoomed to process (");
  await page.getByRole("button", { name: "Reset zoom" }).click();
  // The same from the keyboard: focus the graph, follow the widest callees down to the spin.
  const status = page.locator(".flame-tools [role=status]");
  await canvas.focus();
  // After Reset zoom the keyboard starts from the root, not from the frame clicked above.
  await expect(details).toContainText(/^all: \d+ samples, 100\.0% of the view$/);
  let reached = false;
  const walked: string[] = [];
  for (let r = 0; r < rowsDrawn && !reached; r++) {
    await page.keyboard.press("ArrowDown");
    await page.evaluate("new Promise((resolve) => requestAnimationFrame(resolve))");
    walked.push((await details.textContent()) ?? "");
    reached = /^process \(/.test(walked.at(-1) ?? "");
  }
  expect(
    reached,
    `ArrowDown follows the widest callee down to the spinning function; walked:\n${walked.join("\n")}`,
  ).toBe(true);
  await page.keyboard.press("Enter");
  await expect(status).toContainText("zoomed to process (");
  await page.keyboard.press("Escape");
  await expect(status).toContainText("click a frame to zoom to it");

  // Both exports download, in their formats.
  const [folded] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Export collapsed stacks" }).click(),
  ]);
  expect(folded.suggestedFilename()).toMatch(/^profile-demo-3-ui-[\w-]+\.folded$/);
  const collapsed = readFileSync(await folded.path(), "utf8");
  expect(collapsed).toMatch(/^udf-\d+;.*process \(.*demo-udfs\.js:\d+\).* \d+$/m);
  const [speedscope] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Export speedscope JSON" }).click(),
  ]);
  const doc = JSON.parse(readFileSync(await speedscope.path(), "utf8")) as {
    shared: { frames: { name: string }[] };
    profiles: { type: string }[];
  };
  expect(doc.profiles[0]?.type).toBe("sampled");
  expect(doc.shared.frames.map((f) => f.name)).toContain("process");

  // A snapshot taken now keeps the profile; its permalink shows it read-only.
  // The profile page's own button: a snapshot of this worker (the top bar's is the fleet's).
  const main = page.getByRole("region", { name: /Profile of demo-3/ });
  await main.getByRole("button", { name: "Share snapshot" }).click();
  const note = main.getByRole("status").filter({ hasText: "Copied:" });
  await expect(note).toContainText("snapshot http", { timeout: 15_000 });
  const permalink = (await note.getByRole("link").getAttribute("href")) ?? "";
  expect(permalink).toMatch(/\/snapshots\/[A-Za-z0-9_-]{22,}\/workers\/demo-3$/);
  await page.goto(permalink);
  await expect(page.getByText(/Started by .*: “where does demo-3's CPU go/)).toBeVisible({
    timeout: 15_000,
  });
  await expect(page.locator(".profile-table tbody tr").first()).toContainText("process");
  await expect(page.locator('.flame-host[data-ready="true"] canvas')).toBeVisible();
  await expect(page.getByRole("button", { name: "Profile", exact: true })).toHaveCount(0);
  expect(profileUrl).not.toBe(page.url());
});
