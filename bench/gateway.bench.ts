// Gateway figures (issue 4), printed, never asserted:
// - detection latency: SIGSTOP of a real worker → the unresponsive state
// - snapshot create time and size for 1,000 workers
// Heartbeat CPU, p99 against a bare loop, capacity and memory per worker are in
// probe-cpu.bench.ts and probe-latency.bench.ts (issue 13).
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { FleetService, Liveness } from "../gen/stallwatch/v1/fleet_pb.js";
import { SnapshotService } from "../gen/stallwatch/v1/snapshot_pb.js";
import { killAll, startProcess, table } from "./harness.js";
import { startFarms } from "./probe-harness.js";
import { testGatewayArgs } from "../server/testing/test-gateway.js";
import { testWorkerArgs } from "../server/testing/test-worker.js";

const WORKERS = 1000;

try {
  const rows: Record<string, string>[] = [];
  const farm = await startFarms(WORKERS);
  const addresses = farm.addresses;
  const dir = mkdtempSync(join(tmpdir(), "sw-bench-"));
  const config = join(dir, "gateway.json");
  writeFileSync(config, JSON.stringify({ worker: addresses }));
  const { child, line } = await startProcess(
    testGatewayArgs({ db: join(dir, "db.sqlite"), flags: { config } }),
  );
  const http = String(line.http);
  const transport = createConnectTransport({ baseUrl: `http://${http}`, httpVersion: "1.1" });
  await new Promise((r) => setTimeout(r, 5000)); // connections up, timers spread

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
  farm.stop();

  // Detection latency with a real worker.
  const { child: gw2, line: l2 } = await startProcess(
    testGatewayArgs({ db: join(dir, "db2.sqlite") }),
  );
  const fleet2 = createClient(
    FleetService,
    createConnectTransport({ baseUrl: `http://${String(l2.http)}`, httpVersion: "1.1" }),
  );
  const latencies: number[] = [];
  for (let i = 0; i < 3; i++) {
    const { child: worker } = await startProcess(
      testWorkerArgs({ id: `detect-${i}`, gateway: String(l2.grpc) }),
    );
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
