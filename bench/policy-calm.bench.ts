// A calm demo fleet (`stallwatch demo --scenario calm`: load only, nothing
// hung) with the demo's remediation policies, for N minutes (default 30;
// `--minutes N` or BENCH_MINUTES to shorten). Prints, every minute and at the
// end, how many times each policy matched: a policy that matches healthy
// work would cancel it, so the figure to see is 0. Printed, never asserted.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { FleetService } from "../gen/stallwatch/v1/fleet_pb.js";
import { PolicyService, type Policy } from "../gen/stallwatch/v1/policy_pb.js";
import { table } from "./harness.js";

const CLI = fileURLToPath(new URL("../server/main.js", import.meta.url));
const flagAt = process.argv.indexOf("--minutes");
const MINUTES = Number(
  (flagAt >= 0 ? process.argv[flagAt + 1] : undefined) ?? process.env.BENCH_MINUTES ?? 30,
);
if (!Number.isFinite(MINUTES) || MINUTES <= 0) throw new Error("--minutes: a positive number");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const demo = spawn(
  process.execPath,
  [
    CLI,
    "demo",
    "--scenario",
    "calm",
    "--http",
    "127.0.0.1:0",
    "--grpc",
    "127.0.0.1:0",
    "--db",
    join(mkdtempSync(join(tmpdir(), "policy-calm-")), "demo.db"),
    "--log-format",
    "json",
  ],
  { stdio: ["pipe", "pipe", "inherit"] },
);
const stopDemo = async () => {
  if (demo.exitCode !== null || demo.signalCode !== null) return;
  demo.kill("SIGINT");
  const killer = setTimeout(() => demo.kill("SIGKILL"), 20_000);
  await new Promise((r) => demo.once("exit", r));
  clearTimeout(killer);
};
process.on("SIGINT", () => void stopDemo().then(() => process.exit(130)));

const url = await new Promise<string>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error("the demo was not ready within 120 s")), 120_000);
  createInterface({ input: demo.stdout }).on("line", (text) => {
    try {
      const line = JSON.parse(text) as { msg?: string; url?: string };
      if (line.msg === "demo ready" && line.url) {
        clearTimeout(timer);
        resolve(line.url);
      }
    } catch {
      // not JSON
    }
  });
  demo.once("exit", (code) => reject(new Error(`the demo exited (${code})`)));
});
const transport = createConnectTransport({ baseUrl: url.replace(/\/$/, ""), httpVersion: "1.1" });
const policies = createClient(PolicyService, transport);
const fleet = createClient(FleetService, transport);

const row = (minute: number, list: Policy[], sessions: number) => ({
  minute,
  sessionsNow: sessions,
  ...Object.fromEntries(list.map((p) => [`${p.name} matches`, Number(p.counts?.matches ?? 0n)])),
});
const rows: Record<string, string | number>[] = [];
try {
  const started = Date.now();
  for (let minute = 1; minute <= Math.ceil(MINUTES); minute++) {
    await sleep(Math.max(0, started + minute * 60_000 - Date.now()));
    const [{ policies: list }, { workers }] = await Promise.all([
      policies.listPolicies({}, { timeoutMs: 10_000 }),
      fleet.listWorkers({}, { timeoutMs: 10_000 }),
    ]);
    const sessions = workers.reduce((n, w) => n + Number(w.metrics.active_sessions ?? 0), 0);
    rows.push(row(minute, list, sessions));
    console.log(JSON.stringify(rows.at(-1)));
  }
  const { policies: list } = await policies.listPolicies({}, { timeoutMs: 10_000 });
  table(rows);
  const matches = list.reduce((n, p) => n + Number(p.counts?.matches ?? 0n), 0);
  console.log(
    `policy-calm: ${MINUTES} min of a calm demo fleet, ${list.length} policies (${list.map((p) => p.name).join(", ")}): ${matches} matches (expected 0)`,
  );
} finally {
  await stopDemo();
}
