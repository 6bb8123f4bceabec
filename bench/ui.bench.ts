// Dashboard figures in Chromium (issues 5 and 11), printed, never asserted:
// - fleet first load at 10 and 10,000 workers: bytes transferred (fresh cache)
//   and time to the first row
// - fleet page with 10,000 workers: long tasks under 1 Hz updates
// - a 2,000-thread dump: render time (tab click to groups on screen), with
//   41 distinct stacks and with 2,000 (every thread its own group)
// - a 1,000-worker snapshot permalink: time to the first rows
// Data comes from a synthetic in-process API server (bench/ui-server.ts): a real gateway
// cannot be given 10,000 workers on this 2-core machine.
import { create } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
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
import { table } from "./harness.js";
import { launchChromium, median, startUiServer } from "./ui-server.js";

/** What is measured: workers in the large and small fleet, threads in a dump, workers in a snapshot, seconds of 1 Hz updates. */
const SIZE = {
  fleet: 10_000,
  smallFleet: 10,
  threads: 2_000,
  snapshotWorkers: 1_000,
  updateSeconds: 10,
} as const;

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
  threads: Array.from({ length: SIZE.threads }, (_, i) => ({
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

/** The same dump with every thread on its own stack: 2,000 groups. */
const distinctDump = create(ThreadDumpViewSchema, {
  ...dump,
  threads: dump.threads.map((t, i) => ({
    ...t,
    thread: t.thread
      ? { ...t.thread, frames: [`work (job.py:${i})`, "run (pool.py:9)"] }
      : undefined,
  })),
});

const routes = (fleetSize: number) => (router: ConnectRouter) => {
  router.service(FleetService, {
    async *watchFleet(_req, ctx) {
      const now = Date.now();
      yield create(WatchFleetResponseSchema, {
        fullState: true,
        workers: Array.from({ length: fleetSize }, (_, i) => worker(i, now)),
        asOfMs: BigInt(now),
      });
      while (!ctx.signal.aborted) {
        await new Promise((r) => setTimeout(r, 1000));
        const t = Date.now();
        // 10% of the fleet changes every second.
        const changed = Array.from({ length: Math.ceil(fleetSize / 10) }, () =>
          worker(Math.floor(Math.random() * fleetSize), t),
        );
        yield create(WatchFleetResponseSchema, { workers: changed, asOfMs: BigInt(t) });
      }
    },
    async *watchWorker(req, ctx) {
      while (!ctx.signal.aborted) {
        yield {
          detail: create(WorkerDetailSchema, {
            worker: { ...worker(0, Date.now()), id: req.workerId },
          }),
          asOfMs: BigInt(Date.now()),
        };
        await new Promise((r) => setTimeout(r, 1000));
      }
    },
    async *watchThreadDumps(req, ctx) {
      yield { dump: req.workerId === "w-distinct" ? distinctDump : dump };
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
            workerCount: SIZE.snapshotWorkers,
          },
          workers: Array.from({ length: SIZE.snapshotWorkers }, (_, i) => worker(i, now)),
          // Like the gateway: the fleet view asks for a summary, without details.
          details: Array.from(
            { length: req.summary ? 0 : req.workerId ? 1 : SIZE.snapshotWorkers },
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

const big = await startUiServer(routes(SIZE.fleet));
const small = await startUiServer(routes(SIZE.smallFleet));
const base = big.base;

/**
 * Clicks the thread tab and waits in the page (no round trips) until groups
 * are on screen: the whole time, and the render part (from the dump's
 * arrival, a performance mark the app sets, to the next frame after the
 * groups are in the DOM).
 */
const RENDER_DUMP = `new Promise((resolve) => {
  performance.clearMarks("stallwatch:dump-received");
  const tab = [...document.querySelectorAll('[role="tab"]')].find((t) => t.textContent.includes("thread"));
  const t0 = performance.now();
  tab.click();
  const done = () => {
    const now = performance.now();
    const mark = performance.getEntriesByName("stallwatch:dump-received")[0];
    resolve({ total: now - t0, render: mark ? now - mark.startTime : -1 });
  };
  const check = () =>
    document.querySelector(".thread-groups .group")
      ? requestAnimationFrame(done)
      : performance.now() - t0 > 20000
        ? resolve({ total: -1, render: -1 })
        : requestAnimationFrame(check);
  check();
})`;

const browser = await launchChromium();
const rows: Record<string, string>[] = [];
try {
  for (const [size, at] of [
    [SIZE.smallFleet, small.base],
    [SIZE.fleet, big.base],
  ] as const) {
    // A fresh context: nothing cached, what a new on-call engineer's browser loads.
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const first = await context.newPage();
    // Bytes on the wire, counted by Chromium (compressed, streams included).
    const cdp = await context.newCDPSession(first);
    await cdp.send("Network.enable");
    const wire = { total: 0, assets: 0, files: new Set<string>() };
    const urls = new Map<string, string>();
    cdp.on("Network.requestWillBeSent", (e) => urls.set(e.requestId, e.request.url));
    cdp.on("Network.dataReceived", (e) => {
      wire.total += e.encodedDataLength;
      const url = urls.get(e.requestId) ?? "";
      if (url.includes("/assets/")) {
        wire.assets += e.encodedDataLength;
        wire.files.add(url);
      }
    });
    const t = performance.now();
    await first.goto(`${at}/`);
    await first.waitForSelector("tr[data-worker-id]", { timeout: 60_000 });
    const toFirstRow = performance.now() - t;
    // Not "networkidle": the fleet stream stays open. Long enough for lazy chunks.
    await first.waitForTimeout(1500);
    const bytes = { total: wire.total, assets: wire.assets, files: wire.files.size };
    rows.push({
      measure: `fleet first load, ${size} workers: time to first row`,
      value: `${toFirstRow.toFixed(0)} ms`,
      note: "fresh browser context; navigation to the first worker row",
    });
    rows.push({
      measure: `fleet first load, ${size} workers: bytes transferred`,
      value: `${(bytes.total / 1024).toFixed(0)} KiB`,
      note: `app code ${(bytes.assets / 1024).toFixed(0)} KiB in ${bytes.files} files (brotli); the rest is the page and the fleet stream (binary protobuf); target app < 200 kB`,
    });
    await context.close();
  }

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
  await page.waitForTimeout(SIZE.updateSeconds * 1000);
  const updates = await page.evaluate<number[]>(`window.longTasks.slice(${before})`);
  const rendered = await page.locator("tr[data-worker-id]").count();
  rows.push({
    measure: `fleet page, ${SIZE.fleet} workers: first render (warm cache)`,
    value: `${firstRender.toFixed(0)} ms`,
    note: `${rendered} rows in the DOM (virtualized)`,
  });
  rows.push({
    measure: `fleet page under 1 Hz updates (10% of workers), ${SIZE.updateSeconds} s`,
    value: `${updates.length} long tasks, longest ${updates.length ? Math.max(...updates).toFixed(0) : 0} ms`,
    note: `main-thread time in long tasks ${(updates.reduce((a, b) => a + b, 0) / SIZE.updateSeconds).toFixed(0)} ms/s; target: none over 50 ms`,
  });

  for (const [id, what] of [
    ["w-0", "41 distinct stacks"],
    ["w-distinct", "2,000 distinct stacks (virtualized)"],
  ] as const) {
    const totals: number[] = [];
    const renders: number[] = [];
    for (let i = 0; i < 7; i++) {
      await page.goto(`${base}/workers/${id}`);
      await page.waitForSelector("#worker-title", { timeout: 60_000 });
      const t = await page.evaluate<{ total: number; render: number }>(RENDER_DUMP);
      totals.push(t.total);
      renders.push(t.render);
    }
    rows.push({
      measure: `thread dump, ${SIZE.threads} threads, ${what}: render`,
      value: `median ${median(renders).toFixed(0)} ms (max ${Math.max(...renders).toFixed(0)})`,
      note: "dump received → grouped, rendered, next frame; target < 200 ms",
    });
    rows.push({
      measure: `thread dump, ${SIZE.threads} threads, ${what}: tab click → on screen`,
      value: `median ${median(totals).toFixed(0)} ms (max ${Math.max(...totals).toFixed(0)})`,
      note: "adds opening the stream and receiving the dump",
    });
  }
  t0 = performance.now();
  await page.goto(`${base}/workers/w-0?tab=threads`);
  await page.waitForSelector(".thread-groups .group", { timeout: 60_000 });
  rows.push({
    measure: `thread dump, ${SIZE.threads} threads: navigate → rendered`,
    value: `${(performance.now() - t0).toFixed(0)} ms`,
    note: "includes page load and the stream's first message",
  });
  const fresh = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  t0 = performance.now();
  await fresh.goto(`${base}/snapshots/bench-snapshot-0000000000`);
  await fresh.waitForSelector("tr[data-worker-id]", { timeout: 60_000 });
  rows.push({
    measure: `snapshot permalink, ${SIZE.snapshotWorkers} workers (900-point series each): first rows`,
    value: `${(performance.now() - t0).toFixed(0)} ms`,
    note: "fresh page; target < 1 s",
  });
} finally {
  await browser.close();
  big.server.close();
  small.server.close();
}
table(rows);
process.exit(0);
