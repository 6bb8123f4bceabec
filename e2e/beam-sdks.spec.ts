import { expect, test } from "./demo-fixture.js";

/**
 * The demo runs one Beam harness look-alike per SDK format (Python, Java,
 * Go), each with a hung bundle. In Chromium: the stuck thread is the only one
 * "not moving", and (Python, Java) its bundle is on the stalled board. Go's
 * status is a bare goroutine dump with no bundles, so it has none to show.
 */
test.describe.configure({ mode: "serial" });

const HARNESSES = [
  { id: "demo-5", sdk: "Python", bundles: true },
  { id: "demo-beam-java", sdk: "Java", bundles: true },
  { id: "demo-beam-go", sdk: "Go", bundles: false },
] as const;

for (const h of HARNESSES) {
  test(`${h.sdk} SDK text: only the stuck thread is not moving${h.bundles ? ", its bundle is stalled" : ""}`, async ({
    page,
    demo,
  }) => {
    await page.goto(`${demo.url}/workers/${h.id}`);
    await expect(page.getByRole("heading", { name: h.id })).toBeVisible();
    await expect(page.getByTestId("beam-format")).toContainText(h.sdk, { timeout: 30_000 });

    await page.getByRole("tab", { name: "Live thread dump" }).click();
    const groups = page.locator(".thread-groups .group");
    const stuck = groups.filter({ hasText: "blockForever" });
    await expect(stuck.getByText(/not moving for/)).toBeVisible({ timeout: 60_000 });
    await expect(groups.filter({ hasText: /not moving for/ })).toHaveCount(1);

    await page.goto(`${demo.url}/stalled`);
    const rows = page.getByRole("row").filter({ hasText: h.id });
    if (h.bundles) {
      // Java bundles carry no UDF name (only an instruction id): the row is the worker's stalled bundle.
      await expect(rows.filter({ hasText: /processing for/ })).toHaveCount(1, { timeout: 60_000 });
    } else {
      await expect(page.getByRole("row").filter({ hasText: "demo-1" })).toBeVisible({
        timeout: 60_000,
      });
      await expect(rows).toHaveCount(0);
    }
  });
}
