// Live proof of the alert rules (README "Alerts, dashboard and notifications"):
// the demo fleet scraped by a real Prometheus loaded with
// deploy/prometheus/stallwatch-rules.yml. The demo's hung session turns stalled;
// StallwatchSessionsStalled must fire within its `for:` plus two scrape
// intervals of the gateway first reporting it. `npm run bench alert-proof`.
// Exits 1 when it does not (or nothing happens within 4 minutes).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { pollUntil } from "../server/testing/poll.js";
import { startPrometheus } from "../server/testing/prometheus.js";

const CLI = fileURLToPath(new URL("../server/main.js", import.meta.url));
const RULES = fileURLToPath(
  new URL("../../deploy/prometheus/stallwatch-rules.yml", import.meta.url),
);
const ALERT = "StallwatchSessionsStalled";
/** The alert's `for:` in seconds, as the shipped rules file says. */
function forOf(rules: string, alert: string): number {
  const block = rules.split(/- alert: /).find((b) => b.startsWith(`${alert}\n`)) ?? "";
  const [, n = "0", unit = "s"] = /\n\s+for: (\d+)([smh])\n/.exec(block) ?? [];
  return Number(n) * { s: 1, m: 60, h: 3600 }[unit as "s" | "m" | "h"];
}

const SCRAPE_S = Number(process.env.BENCH_SCRAPE_S ?? 5);
const GIVE_UP_MS = 4 * 60_000;

const demo = spawn(
  process.execPath,
  [
    ...[CLI, "demo", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--log-format", "json"],
    ...["--db", join(mkdtempSync(join(tmpdir(), "stallwatch-alert-proof-")), "demo.db")],
  ],
  {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, LOG_LEVEL: "info" },
  },
);
process.on("exit", () => demo.kill("SIGKILL"));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

// The demo reports why it stopped on stdout (JSON): kept to say so.
let lastError = "";
const url = await new Promise<string>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error("the demo did not start in 60 s")), 60_000);
  createInterface({ input: demo.stdout }).on("line", (text) => {
    try {
      const line = JSON.parse(text) as { msg?: string; url?: string; level?: number };
      if ((line.level ?? 0) >= 50) lastError = text.slice(0, 500);
      if (line.msg === "demo ready" && line.url) {
        clearTimeout(timer);
        resolve(line.url.replace(/\/$/, ""));
      }
    } catch {
      // not JSON
    }
  });
  demo.once("exit", (code) => reject(new Error(`the demo exited ${code}: ${lastError}`)));
});
const prometheus = await startPrometheus({
  targets: [new URL(url).host],
  ruleFiles: [RULES],
  intervalSeconds: SCRAPE_S,
});
const started = Date.now();
const since = (t: number) => `${((t - started) / 1000).toFixed(1)} s`;
console.log(`demo at ${url}, Prometheus at ${prometheus.url} (scrape ${SCRAPE_S} s)`);

let stalledAt: number | undefined;
let pendingAt: number | undefined;
let firedAt: number | undefined;
let dashboard = "";
try {
  await pollUntil(
    async () => {
      const now = Date.now();
      if (stalledAt === undefined) {
        const text = await (await fetch(`${url}/metrics`)).text();
        if (/^stallwatch_stalled_sessions [1-9]/m.test(text)) stalledAt = now;
      }
      const alert = (await prometheus.alerts()).find((a) => a.labels.alertname === ALERT);
      if (alert?.state === "pending") pendingAt ??= now;
      if (alert?.state === "firing") {
        firedAt = now;
        dashboard = alert.annotations.dashboard ?? "";
        return true;
      }
      return undefined;
    },
    { timeoutMs: GIVE_UP_MS, intervalMs: 250, what: `${ALERT} to fire` },
  );
} finally {
  await prometheus.stop();
  demo.kill("SIGTERM");
}

const forSeconds = forOf(readFileSync(RULES, "utf8"), ALERT);
const boundS = forSeconds + 2 * SCRAPE_S;
const tookS = ((firedAt ?? 0) - (stalledAt ?? started)) / 1000;
console.table([
  {
    "gateway says stalled": stalledAt ? since(stalledAt) : "never",
    pending: pendingAt ? since(pendingAt) : "never",
    firing: firedAt ? since(firedAt) : "never",
    "stalled to firing": `${tookS.toFixed(1)} s`,
    bound: `${boundS} s (for ${forSeconds} s + 2 x ${SCRAPE_S} s)`,
  },
]);
console.log(`dashboard link of the alert: ${dashboard}`);
if (stalledAt === undefined || tookS > boundS) {
  console.log("FAILED: the alert did not fire within its bound");
  process.exit(1);
}
console.log("ok: fired within the bound");
process.exit(0);
