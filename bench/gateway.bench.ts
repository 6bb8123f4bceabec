// Gateway figures (issue 4), printed, never asserted:
// - gateway CPU per 1,000 workers at 1 Hz heartbeats against lightweight Manage
//   servers, and heartbeat p99 inflation versus a bare client loop in the same run
// - detection latency: SIGSTOP of a real worker → the unresponsive state
// - snapshot create time and size for 1,000 workers
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { FleetService, Liveness } from "../gen/stallwatch/v1/fleet_pb.js";
import { SnapshotService } from "../gen/stallwatch/v1/snapshot_pb.js";
import { ManageClient } from "../server/heartbeats/manage-client.js";
import { parseHostPort } from "../server/net/host-port.js";
import { killAll, percentile, startProcess, table } from "./harness.js";

const WORKERS = 1000;
const MEASURE_S = 15;

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
}

async function startFarm(count: number): Promise<string[]> {
  const farm = spawn(
    process.execPath,
    [fileURLToPath(new URL("./manage-farm.js", import.meta.url)), String(count)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  process.on("exit", () => farm.kill("SIGKILL"));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("farm did not start")), 60_000);
    createInterface({ input: farm.stdout }).on("line", (line) => {
      const parsed = JSON.parse(line) as { addresses?: string[] };
      if (parsed.addresses) {
        clearTimeout(timer);
        resolve(parsed.addresses);
      }
    });
  });
}

try {
  const rows: Record<string, string>[] = [];
  const addresses = await startFarm(WORKERS);
  const dir = mkdtempSync(join(tmpdir(), "sw-bench-"));
  const config = join(dir, "gateway.json");
  writeFileSync(config, JSON.stringify({ worker: addresses }));
  const { child, line } = await startProcess([
    "gateway",
    "--http",
    "127.0.0.1:0",
    "--grpc",
    "127.0.0.1:0",
    "--config",
    config,
    "--db",
    join(dir, "db.sqlite"),
  ]);
  const http = String(line.http);
  const transport = createConnectTransport({ baseUrl: `http://${http}`, httpVersion: "1.1" });
  const fleet = createClient(FleetService, transport);
  await new Promise((r) => setTimeout(r, 5000)); // connections up, timers spread
  const pid = child.pid ?? 0;
  const cpu0 = cpuMs(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, MEASURE_S * 1000));
  const cpuPerS = (cpuMs(pid) - cpu0) / ((performance.now() - t0) / 1000);
  const { workers } = await fleet.listWorkers({});
  const healthy = workers.filter((w) => w.liveness === Liveness.HEALTHY).length;
  const gatewayP99 = percentile(
    workers.map((w) => w.latency?.p99Ms ?? 0),
    50,
  );
  rows.push({
    measure: `gateway CPU, ${WORKERS} workers at 1 Hz`,
    value: `${cpuPerS.toFixed(0)} ms CPU/s (${((cpuPerS / 1000) * 100).toFixed(0)}% of a core)`,
    note: `${healthy}/${WORKERS} healthy; ${((1000 / cpuPerS) * WORKERS).toFixed(0)} workers per core at this rate`,
  });

  // The same servers from a bare client loop in this process, for the inflation figure.
  const bare: number[] = [];
  const sample = addresses.slice(0, 100).map((a) => new ManageClient(parseHostPort(a)));
  for (let round = 0; round < 5; round++) {
    const rtts = await Promise.all(sample.map((c) => c.heartbeat(1000)));
    for (const r of rtts) if (r.ok && round > 0) bare.push(r.rttMs);
    await new Promise((r) => setTimeout(r, 1000));
  }
  for (const c of sample) c.close();
  rows.push({
    measure: "heartbeat p99 (median over workers), gateway",
    value: `${gatewayP99.toFixed(2)} ms`,
    note: "each worker's p99 over its last minute",
  });
  rows.push({
    measure: "heartbeat p99, bare client loop (100 of them)",
    value: `${percentile(bare, 99).toFixed(2)} ms`,
    note: `inflation ${(gatewayP99 - percentile(bare, 99)).toFixed(2)} ms (target < 2 ms)`,
  });

  // Snapshot of the 1,000-worker fleet.
  const snapshots = createClient(SnapshotService, transport);
  const s0 = performance.now();
  const { info } = await snapshots.createSnapshot({});
  const createMs = performance.now() - s0;
  const g0 = performance.now();
  await snapshots.getSnapshot({ id: info?.id ?? "" });
  rows.push({
    measure: `snapshot of ${WORKERS} workers`,
    value: `create ${createMs.toFixed(0)} ms, get ${(performance.now() - g0).toFixed(0)} ms`,
    note: `${(Number(info?.sizeBytes ?? 0n) / 1024).toFixed(0)} KiB stored (gzip); target create < 500 ms`,
  });
  child.kill("SIGTERM");

  // Detection latency with a real worker.
  const { child: gw2, line: l2 } = await startProcess([
    "gateway",
    "--http",
    "127.0.0.1:0",
    "--grpc",
    "127.0.0.1:0",
    "--db",
    join(dir, "db2.sqlite"),
  ]);
  const fleet2 = createClient(
    FleetService,
    createConnectTransport({ baseUrl: `http://${String(l2.http)}`, httpVersion: "1.1" }),
  );
  const latencies: number[] = [];
  for (let i = 0; i < 3; i++) {
    const { child: worker } = await startProcess([
      "worker",
      "--listen",
      "127.0.0.1:0",
      "--id",
      `detect-${i}`,
      "--gateway",
      String(l2.grpc),
    ]);
    for (;;) {
      const { workers: ws } = await fleet2.listWorkers({});
      if (ws.find((w) => w.id === `detect-${i}`)?.liveness === Liveness.HEALTHY) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1500));
    const stoppedAt = Date.now();
    worker.kill("SIGSTOP");
    for (;;) {
      const { workers: ws } = await fleet2.listWorkers({});
      const w = ws.find((x) => x.id === `detect-${i}`);
      if (w?.liveness === Liveness.UNRESPONSIVE) {
        latencies.push(Number(w.livenessSinceMs) - stoppedAt);
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    worker.kill("SIGCONT");
    worker.kill("SIGKILL");
  }
  gw2.kill("SIGTERM");
  rows.push({
    measure: "detection: SIGSTOP → unresponsive",
    value: `${latencies.map((l) => l.toFixed(0)).join(", ")} ms`,
    note: "interval 1 s, deadline 1 s, 3 misses; target ≤ 3 × interval + deadline + 100 ms = 4,100 ms",
  });
  table(rows);
} finally {
  killAll();
}
process.exit(0);
