// Dashboard figures in Chromium (issue 5), printed, never asserted:
// - fleet page with 10,000 workers: first render, and long tasks under 1 Hz updates
// - a 2,000-thread dump: time to render
// - a 1,000-worker snapshot permalink: time to the first rows
// Data comes from a synthetic in-process API server (bench only): a real gateway
// cannot be given 10,000 workers on this 2-core machine.
import http from "node:http";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { chromium } from "@playwright/test";
import { ControlService, Role } from "../gen/stallwatch/v1/control_pb.js";
import {
  FleetService,
  Liveness,
  ThreadDumpViewSchema,
  WatchFleetResponseSchema,
  WorkerDetailSchema,
  WorkerKind,
  WorkerSchema,
  type Worker,
} from "../gen/stallwatch/v1/fleet_pb.js";
import { SnapshotSchema, SnapshotService } from "../gen/stallwatch/v1/snapshot_pb.js";
import { createStaticHandler } from "../server/gateway/static-files.js";
import { table } from "./harness.js";

const FLEET = 10_000;
const THREADS = 2_000;
const SNAPSHOT_WORKERS = 1_000;
const UPDATE_SECONDS = 10;

function worker(i: number, now: number): Worker {
  const bad = i % 500 === 0;
  return create(WorkerSchema, {
    id: `w-${i}`,
    kind: i % 10 === 0 ? WorkerKind.BEAM : WorkerKind.AGENT,
    address: `10.0.${Math.floor(i / 250)}.${i % 250}:7070`,
    liveness: bad ? Liveness.UNRESPONSIVE : Liveness.HEALTHY,
    livenessSinceMs: BigInt(now - 60_000),
    livenessReason: bad ? "3 missed heartbeats in a row" : "first heartbeat answered",
    lastHeartbeatAtMs: BigInt(now - (bad ? 60_000 : 500)),
    latency: { lastMs: 1 + (i % 7), p50Ms: 1.5, p99Ms: 4 + (i % 13), samples: 60 },
    metrics: { rss_bytes: String(100_000_000 + i), active_sessions: String(i % 4) },
    activeSessions: i % 4,
  });
}

const dump = create(ThreadDumpViewSchema, {
  id: "d-1",
  workerId: "w-0",
  takenAtMs: BigInt(Date.now()),
  source: "agent",
  threads: Array.from({ length: THREADS }, (_, i) => ({
    thread: {
      threadId: `t-${i}`,
      name: `pool-${i}`,
      state: i < 5 ? "running" : "idle",
      frames:
        i < 5
          ? ["recv_into (ssl.py:1821)", "process (udf.py:17)"]
          : [`wait (threading.py:${300 + (i % 40)})`, "run (pool.py:9)"],
    },
    unchangedSinceMs: BigInt(Date.now() - 40_000),
    notMoving: i < 5,
  })),
});

const routes = (router: ConnectRouter) => {
  router.service(FleetService, {
    async *watchFleet(_req, ctx) {
      const now = Date.now();
      yield create(WatchFleetResponseSchema, {
        fullState: true,
        workers: Array.from({ length: FLEET }, (_, i) => worker(i, now)),
        asOfMs: BigInt(now),
      });
      while (!ctx.signal.aborted) {
        await new Promise((r) => setTimeout(r, 1000));
        const t = Date.now();
        // 10% of the fleet changes every second.
        const changed = Array.from({ length: FLEET / 10 }, () =>
          worker(Math.floor(Math.random() * FLEET), t),
        );
        yield create(WatchFleetResponseSchema, { workers: changed, asOfMs: BigInt(t) });
      }
    },
    async *watchWorker(_req, ctx) {
      while (!ctx.signal.aborted) {
        yield {
          detail: create(WorkerDetailSchema, { worker: worker(0, Date.now()) }),
          asOfMs: BigInt(Date.now()),
        };
        await new Promise((r) => setTimeout(r, 1000));
      }
    },
    async *watchThreadDumps(_req, ctx) {
      yield { dump };
      await new Promise<void>((r) => ctx.signal.addEventListener("abort", () => r()));
    },
  });
  router.service(ControlService, {
    whoAmI: () => ({ role: Role.VIEWER, actor: "bench", reason: "bench" }),
  });
  router.service(SnapshotService, {
    getSnapshot: (req) => {
      const now = Date.now();
      return {
        snapshot: create(SnapshotSchema, {
          info: {
            id: req.id,
            createdAtMs: BigInt(now),
            createdBy: "bench",
            workerCount: SNAPSHOT_WORKERS,
          },
          workers: Array.from({ length: SNAPSHOT_WORKERS }, (_, i) => worker(i, now)),
          // Like the gateway: the fleet view asks for a summary, without details.
          details: Array.from(
            { length: req.summary ? 0 : req.workerId ? 1 : SNAPSHOT_WORKERS },
            (_, i) =>
              create(WorkerDetailSchema, {
                worker: worker(i, now),
                roundTripsMs: {
                  timesMs: Array.from({ length: 900 }, (_, k) => BigInt(now - (900 - k) * 1000)),
                  values: Array.from({ length: 900 }, (_, k) => 1 + (k % 5)),
                },
              }),
          ),
        }),
      };
    },
  });
};

const webRoot = fileURLToPath(new URL("../web/", import.meta.url));
const serveStatic = createStaticHandler(webRoot);
const api = connectNodeAdapter({
  routes,
  // Mounted on an HTTP/1.1 server only.
  fallback: (req, res) => serveStatic(req as http.IncomingMessage, res as http.ServerResponse),
});
const server = http.createServer(api);
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const address = server.address();
const base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const rows: Record<string, string>[] = [];
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  // Page-side code as strings: this file is compiled for Node, without DOM types.
  await page.addInitScript({
    content:
      "window.longTasks = []; new PerformanceObserver((l) => { for (const e of l.getEntries()) window.longTasks.push(e.duration); }).observe({ type: 'longtask', buffered: true });",
  });
  let t0 = performance.now();
  await page.goto(`${base}/`);
  await page.waitForSelector("tr[data-worker-id]", { timeout: 60_000 });
  const firstRender = performance.now() - t0;
  const before = await page.evaluate<number>("window.longTasks.length");
  await page.waitForTimeout(UPDATE_SECONDS * 1000);
  const updates = await page.evaluate<number[]>(`window.longTasks.slice(${before})`);
  const rendered = await page.locator("tr[data-worker-id]").count();
  rows.push({
    measure: `fleet page, ${FLEET} workers: first render`,
    value: `${firstRender.toFixed(0)} ms`,
    note: `${rendered} rows in the DOM (virtualized)`,
  });
  rows.push({
    measure: `fleet page under 1 Hz updates (10% of workers), ${UPDATE_SECONDS} s`,
    value: `${updates.length} long tasks, longest ${updates.length ? Math.max(...updates).toFixed(0) : 0} ms`,
    note: `main-thread time in long tasks ${(updates.reduce((a, b) => a + b, 0) / UPDATE_SECONDS).toFixed(0)} ms/s; target: none over 50 ms`,
  });

  t0 = performance.now();
  await page.goto(`${base}/workers/w-0?tab=threads`);
  await page.waitForSelector(".thread-groups .group", { timeout: 60_000 });
  rows.push({
    measure: `thread dump, ${THREADS} threads: navigate → rendered`,
    value: `${(performance.now() - t0).toFixed(0)} ms`,
    note: "includes page load and the stream's first message; target render < 200 ms",
  });
  t0 = performance.now();
  await page.getByRole("button", { name: "Expand all" }).click();
  await page.waitForSelector(".group-body");
  rows.push({
    measure: "thread dump: expand all groups",
    value: `${(performance.now() - t0).toFixed(0)} ms`,
    note: "",
  });

  const fresh = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  t0 = performance.now();
  await fresh.goto(`${base}/snapshots/bench-snapshot-0000000000`);
  await fresh.waitForSelector("tr[data-worker-id]", { timeout: 60_000 });
  rows.push({
    measure: `snapshot permalink, ${SNAPSHOT_WORKERS} workers (900-point series each): first rows`,
    value: `${(performance.now() - t0).toFixed(0)} ms`,
    note: "fresh page; target < 1 s",
  });
} finally {
  await browser.close();
  server.close();
}
table(rows);
process.exit(0);
