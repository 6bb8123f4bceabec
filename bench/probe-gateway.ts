// A gateway process probing a farm, measured from outside: CPU per heartbeat
// from /proc (every thread), the busiest probe thread and the main thread.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { FleetService, Liveness } from "../gen/stallwatch/v1/fleet_pb.js";
import { SnapshotService } from "../gen/stallwatch/v1/snapshot_pb.js";
import { startProcess } from "./harness.js";
import { cpuMs, sleep, threadCpu } from "./probe-harness.js";
import { testGatewayArgs } from "../server/testing/test-gateway.js";

export interface BenchGateway {
  child: ChildProcess;
  pid: number;
  fleet: Client<typeof FleetService>;
  snapshots: Client<typeof SnapshotService>;
  http: string;
  stop(): void;
}

/** Heartbeats the gateway made so far, from its own /metrics counter. */
export async function beatsSoFar(gw: BenchGateway): Promise<number> {
  const text = await (await fetch(`http://${gw.http}/metrics`)).text();
  let total = 0;
  for (const m of text.matchAll(/^stallwatch_heartbeats_total\{[^}\n]*\} (\d+)$/gm))
    total += Number(m[1]);
  return total;
}

/** "3 gone: connection refused" style summary of workers that are not healthy. */
export async function unhealthySummary(gw: BenchGateway): Promise<string> {
  const { workers } = await gw.fleet.listWorkers({});
  const counts = new Map<string, number>();
  for (const w of workers) {
    if (w.liveness === Liveness.HEALTHY) continue;
    const key = `${Liveness[w.liveness].toLowerCase()}: ${w.livenessReason.slice(0, 50)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([k, n]) => `${n} ${k}`)
    .join("; ");
}

export async function startGateway(
  addresses: string[],
  probeThreads: number,
): Promise<BenchGateway> {
  const dir = mkdtempSync(join(tmpdir(), "sw-probe-bench-"));
  const config = join(dir, "gateway.json");
  writeFileSync(config, JSON.stringify({ worker: addresses }));
  const { child, line } = await startProcess(
    testGatewayArgs({
      db: join(dir, "db.sqlite"),
      flags: { config, "probe-threads": probeThreads },
    }),
    60_000,
  );
  const transport = createConnectTransport({
    baseUrl: `http://${String(line.http)}`,
    httpVersion: "1.1",
  });
  return {
    child,
    pid: child.pid ?? 0,
    fleet: createClient(FleetService, transport),
    snapshots: createClient(SnapshotService, transport),
    http: String(line.http),
    stop: () => child.kill("SIGKILL"),
  };
}

export interface CpuFigures {
  cpuUsPerBeat: number;
  /** Share of one core: the whole process, its main thread, its busiest other thread. */
  process: number;
  main: number;
  busiestProbe: number;
  healthy: number;
  /** Heartbeats made per second in the window (all outcomes). */
  beatsPerS: number;
  unhealthy: string;
}

/** CPU of a running gateway over `measureS` seconds, per heartbeat at 1 Hz. */
export async function measureGatewayCpu(gw: BenchGateway, measureS: number): Promise<CpuFigures> {
  const b0 = await beatsSoFar(gw);
  const t0 = threadCpu(gw.pid);
  const p0 = cpuMs(gw.pid);
  const w0 = performance.now();
  await sleep(measureS * 1000);
  const seconds = (performance.now() - w0) / 1000;
  const p1 = cpuMs(gw.pid);
  const t1 = threadCpu(gw.pid);
  const beats = Math.max(1, (await beatsSoFar(gw)) - b0);
  const share = (ms: number) => ms / 1000 / seconds;
  let busiest = 0;
  for (const [tid, { ms }] of t1) {
    if (tid === gw.pid) continue;
    busiest = Math.max(busiest, ms - (t0.get(tid)?.ms ?? 0));
  }
  const { workers: list } = await gw.fleet.listWorkers({});
  return {
    cpuUsPerBeat: ((p1 - p0) * 1000) / beats,
    beatsPerS: beats / seconds,
    unhealthy:
      list.length - list.filter((w) => w.liveness === Liveness.HEALTHY).length > 0
        ? await unhealthySummary(gw)
        : "",
    process: share(p1 - p0),
    main: share((t1.get(gw.pid)?.ms ?? 0) - (t0.get(gw.pid)?.ms ?? 0)),
    busiestProbe: share(busiest),
    healthy: list.filter((w) => w.liveness === Liveness.HEALTHY).length,
  };
}
