import { SessionState } from "../gen/stallwatch/v1/agent_pb.js";
import { apiClients } from "../server/testing/api-clients.js";
import { pollUntil } from "../server/testing/poll.js";
import {
  killPythonWorkers,
  startPythonWorker,
  type PythonWorkerProcess,
} from "../server/testing/python-worker.js";
import { startStallwatch, type StallwatchProcess } from "../server/testing/spawn-stallwatch.js";
import { expect, OPERATOR_TOKEN, test } from "./demo-fixture.js";

/**
 * Issue 21, in Chromium against the real demo: the Python reference worker
 * (python/stallwatch_worker with its agent) seen as deeply as our own.
 */
test.describe.configure({ mode: "serial" });

const started: { stop(): Promise<unknown> }[] = [];
test.afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
  killPythonWorkers();
});

/** The demo gateway's worker-facing gRPC address: the fixture binds it one above --http. */
function grpcOf(url: string): string {
  return `127.0.0.1:${Number(new URL(url).port) + 1}`;
}

/** A Python worker joined to the demo's gateway, and a TS engine running one session of `udf` on it. */
async function pythonWorkerWith(
  url: string,
  id: string,
  udf: Record<string, unknown>,
): Promise<{ worker: PythonWorkerProcess; engine: StallwatchProcess }> {
  const worker = await startPythonWorker(["--id", id, "--gateway", grpcOf(url)]);
  started.push(worker);
  const engine = await startStallwatch(
    ["engine", "--worker", worker.address, "--udf", JSON.stringify(udf), "--sessions", "1"],
    { startTimeoutMs: 30_000 },
  );
  started.push(engine);
  return { worker, engine };
}

/** Waits (through the API, not the page) until `workerId` has a live `fn` session in PROCESSING. */
async function processing(url: string, workerId: string, fn: string, stalled = false) {
  const { fleet } = apiClients(new URL(url).host, OPERATOR_TOKEN);
  return pollUntil(
    async () => {
      if (stalled) {
        const { sessions } = await fleet.listStalledSessions({}, { timeoutMs: 5000 });
        return sessions.find((s) => s.workerId === workerId && s.session?.udfName === fn);
      }
      const { detail } = await fleet.getWorker({ workerId }, { timeoutMs: 5000 });
      const s = detail?.sessions.find((v) => v.session?.udfName === fn);
      return s?.session?.state === SessionState.PROCESSING ? s : undefined;
    },
    { timeoutMs: 90_000, what: `${workerId}'s ${fn} session ${stalled ? "stalled" : "running"}` },
  );
}

test("the demo's Python worker: its session hung in recv_into shows stalled, innermost frame at file:line, within 5 s of opening its page", async ({
  page,
  demo,
}) => {
  // The gateway judges it stalled after the demo's --stall-processing-ms; then the clock starts.
  await processing(demo.url, "demo-py", "hang", true);
  const opened = Date.now();
  const within5s = () => ({ timeout: Math.max(1, 5000 - (Date.now() - opened)) });
  await page.goto(`${demo.url}/workers/demo-py`);
  const row = page.locator("tr.stalled").filter({ hasText: "hang" });
  await expect(row.locator(".stall-flag")).toContainText(/stalled: processing for/, within5s());
  await row.getByRole("link", { name: /^thread / }).click();
  // The innermost Python frame: the UDF's line that called the C method recv_into.
  const group = page
    .locator(".thread-groups .group")
    .filter({ hasText: "stallwatch_worker/udfs.py" });
  await expect(group.locator(".group-head")).toContainText(
    /not moving for .*\(\S*stallwatch_worker\/udfs\.py:\d+\) — .*recv_into\(/,
    within5s(),
  );
});

test("cancel a Python session spinning in pure Python: it succeeds, and says how", async ({
  page,
  demo,
}) => {
  await pythonWorkerWith(demo.url, "py-e2e-spin", { fn: "spin" });
  await processing(demo.url, "py-e2e-spin", "spin");
  await page.goto(`${demo.url}/#operator-token=${OPERATOR_TOKEN}`);
  await page.goto(`${demo.url}/workers/py-e2e-spin`);
  const row = page.locator("tr[data-session-id]").filter({ hasText: "spin" });
  await row.getByRole("button", { name: "Cancel" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel(/Reason/).fill("spinning, e2e journey");
  await dialog.getByRole("button", { name: "Cancel session now" }).click();
  await expect(dialog.getByRole("status")).toContainText(/cancelled: user code yielded within/, {
    timeout: 30_000,
  });
  await expect(page.locator("tr[data-session-id]").filter({ hasText: "spin" })).toHaveCount(0, {
    timeout: 20_000,
  });
});

test("a Python worker whose GIL is held in C: shown as such, its cancel says it did not happen, and cancel worker kills it and says so", async ({
  page,
  demo,
}) => {
  await pythonWorkerWith(demo.url, "py-e2e-gil", { fn: "gil", seconds: 3600 });
  await processing(demo.url, "py-e2e-gil", "gil");
  await page.goto(`${demo.url}/#operator-token=${OPERATOR_TOKEN}`);
  await page.goto(`${demo.url}/workers/py-e2e-gil`);
  await page.getByRole("tab", { name: "Live thread dump" }).click();
  await expect(page.locator(".thread-groups")).toContainText(/GIL held by native code/, {
    timeout: 30_000,
  });
  await expect(page.locator(".thread-groups")).toContainText(/match .*udfs\.py:\d+|udfs\.py:\d+/);

  await page.getByRole("tab", { name: "Overview" }).click();
  const row = page.locator("tr[data-session-id]").filter({ hasText: "gil" });
  await row.getByRole("button", { name: "Cancel" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel(/Reason/).fill("GIL held, e2e journey");
  await dialog.getByRole("button", { name: "Cancel session now" }).click();
  // Honest: native code ignored the cancel; nothing claims it happened.
  await expect(dialog.getByRole("status")).toContainText(/failed: .*GIL/, { timeout: 30_000 });
  await expect(dialog.getByRole("status")).not.toContainText(/^cancelled/);
  await dialog.getByRole("button", { name: "Close" }).click();

  // "Cancel worker": Manage needs the GIL too, so the shutdown goes unanswered;
  // the agent's helper process ends the worker and the outcome says how.
  await page.getByRole("button", { name: "Cancel all" }).click();
  const worker = page.getByRole("dialog");
  await worker.getByLabel(/Reason/).fill("GIL held, e2e journey: end the process");
  await worker.getByRole("button", { name: "Cancel worker now" }).click();
  await expect(worker.getByRole("status")).toContainText(
    /cancelled: .*killed \(SIGKILL\) by the agent helper .*GIL held/,
    { timeout: 40_000 },
  );
});
