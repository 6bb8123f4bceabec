import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROMETHEUS, requireBinary } from "./prometheus-binaries.js";
import { pollUntil } from "./poll.js";

export interface PrometheusOptions {
  /** HOST:PORT of each gateway's /metrics listener. */
  targets: readonly string[];
  /** Rule files to load (absolute paths). */
  ruleFiles?: readonly string[];
  /** Scrape and rule evaluation interval (default 1 s). */
  intervalSeconds?: number;
}

/** One sample of an instant query: its labels and value. */
export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** An alert as /api/v1/alerts lists it. */
export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: "pending" | "firing" | "inactive";
  activeAt: string;
}

/** A throw-away Prometheus on loopback: its own data dir, removed at stop. */
export interface TestPrometheus {
  url: string;
  pid: number;
  /** Evaluates `expr` now; rejects with Prometheus' error for a bad query. */
  query(expr: string): Promise<PromSample[]>;
  alerts(): Promise<PromAlert[]>;
  /** SIGTERM, SIGKILL after 5 s, then the data dir is removed. */
  stop(): Promise<void>;
}

const REQUEST_MS = 5_000;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

function configText({ targets, ruleFiles = [], intervalSeconds = 1 }: PrometheusOptions): string {
  // JSON is YAML: no YAML writer needed.
  return JSON.stringify({
    global: { scrape_interval: `${intervalSeconds}s`, evaluation_interval: `${intervalSeconds}s` },
    rule_files: ruleFiles,
    scrape_configs: [
      { job_name: "stallwatch", metrics_path: "/metrics", static_configs: [{ targets }] },
    ],
  });
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(REQUEST_MS) });
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== "success") throw new Error(`${url}: ${body.error ?? res.status}`);
  return body.data;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/**
 * Starts Debian's Prometheus (unprivileged) scraping `targets`, on a free
 * loopback port, and waits until it is ready. The port is found by binding
 * port 0 first; if another process takes it in between, Prometheus exits
 * and the next attempt gets another.
 */
export async function startPrometheus(opts: PrometheusOptions): Promise<TestPrometheus> {
  const binary = requireBinary(PROMETHEUS);
  const dir = mkdtempSync(join(tmpdir(), "stallwatch-prometheus-"));
  writeFileSync(join(dir, "prometheus.yml"), configText(opts));
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const output: string[] = [];
    const child = spawn(
      binary,
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout.on("data", (b: Buffer) => output.push(b.toString()));
    child.stderr.on("data", (b: Buffer) => output.push(b.toString()));
    const url = `http://127.0.0.1:${port}`;
    try {
      await pollUntil(
        async () => {
          if (child.exitCode !== null) throw new Error(`prometheus exited: ${output.join("")}`);
          const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(REQUEST_MS) });
          return res.ok ? true : undefined;
        },
        { timeoutMs: 20_000, what: "Prometheus ready" },
      );
    } catch (err) {
      lastError = err as Error;
      await stopChild(child);
      continue;
    }
    return {
      url,
      pid: child.pid ?? 0,
      query: async (expr) =>
        (
          await getJson<{ result: PromSample[] }>(
            `${url}/api/v1/query?query=${encodeURIComponent(expr)}`,
          )
        ).result,
      alerts: async () => (await getJson<{ alerts: PromAlert[] }>(`${url}/api/v1/alerts`)).alerts,
      async stop() {
        await stopChild(child);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError ?? new Error("Prometheus did not start");
}
