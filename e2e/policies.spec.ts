import { expect, OPERATOR_TOKEN, test } from "./demo-fixture.js";

/**
 * Remediation policies (issue 24) in Chromium against the real demo, whose
 * policies run in dry run: the hung demo session is matched and recorded as
 * "would have acted" with its evidence, nothing is cancelled, and an
 * operator can hold every policy in dry run with one audited switch.
 */
test("see what the policies would have done to the incident, with evidence, and hold them all in dry run", async ({
  page,
  demo,
}) => {
  await page.goto(`${demo.url}/#operator-token=${OPERATOR_TOKEN}`);
  await page
    .getByRole("navigation", { name: "Sections" })
    .getByRole("link", { name: "Policies" })
    .click();
  await expect(page).toHaveURL(/\/policies$/);
  await expect(page.getByRole("heading", { name: "Policies" })).toBeVisible();

  // The demo's policy, in dry run, with what it does in words.
  const policy = page.locator("table.policies tr").filter({ hasText: "hung-udf" });
  await expect(policy).toContainText("dry-run");
  await expect(policy).toContainText("cancel session");

  // A hung demo session matches once it has been stuck past the threshold
  // (which one depends on what earlier journeys on this demo cancelled).
  const decision = page
    .locator("table.policy-decisions tr")
    .filter({ hasText: "would have acted" })
    .filter({ hasText: /demo-/ })
    .first();
  await expect(decision).toBeVisible({ timeout: 75_000 });
  await expect(decision).toContainText(/no progress for/);
  await expect(decision).not.toContainText("Audit record");

  // One policy's decisions are a link.
  await policy.getByRole("link", { name: "hung-udf" }).click();
  await expect(page).toHaveURL(/\/policies\?policy=hung-udf$/);
  await expect(page.getByRole("heading", { name: /Decisions of hung-udf/ })).toBeVisible();

  // The switch: confirmed with a reason, then shown as held.
  await page.getByRole("button", { name: "Hold all policies in dry run" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog.getByRole("button", { name: "Hold in dry run now" })).toBeDisabled();
  await dialog.getByLabel(/Reason/).fill("e2e: hold during the incident review");
  await dialog.getByRole("button", { name: "Hold in dry run now" }).click();
  await expect(dialog.getByRole("status")).toContainText("every policy is held in dry run");
  await dialog.getByRole("button", { name: "Close" }).click();
  await expect(page.getByText("Every policy is held in dry run")).toBeVisible();
  await expect(
    page.getByRole("button", { name: "Return policies to their configured modes" }),
  ).toBeVisible();

  // Audited like an action.
  await page
    .getByRole("navigation", { name: "Sections" })
    .getByRole("link", { name: "Audit" })
    .click();
  const record = page.getByRole("row").filter({ hasText: "policy switch" });
  await expect(record).toContainText("e2e: hold during the incident review");

  // Dry run: no policy acted, so no audit record names one as its actor.
  await expect(page.getByRole("row").filter({ hasText: "policy:" })).toHaveCount(0);
});
