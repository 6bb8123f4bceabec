// Probing off the main thread (issue 13), printed, never asserted:
// - steady-state heartbeat p99 at 2,000 workers, gateway vs the bare client
//   loop in the same run, after a warm-up longer than the gateway's 60-sample window
// - a snapshot of 5,000 workers: create and get time, and heartbeat p99 while it runs
// - memory per worker in the gateway at 10,000 workers
// Wall-clock figures here share the machine with other engineers' work; the
// main thread's CPU time for the snapshot is printed beside them.
import { availableParallelism } from "node:os";
import { Liveness } from "../gen/stallwatch/v1/fleet_pb.js";
import { killAll, percentile, table } from "./harness.js";
import {
  bareLoop,
  bareSampler,
  cpuMs,
  loadAverage,
  rssMiB,
  sleep,
  startFarms,
} from "./probe-harness.js";
import { startGateway, type BenchGateway } from "./probe-gateway.js";

const WINDOW_S = 60; // the gateway's p99 is over each worker's last 60 samples
/** Probe threads of the gateway under test (`BENCH_PROBE_THREADS`, default 2: this machine's cores). */
const THREADS = Number(process.env.BENCH_PROBE_THREADS ?? 2);
/** `BENCH_ONLY=snapshot` (or p99, memory) runs one part: each takes minutes. */
const only = process.env.BENCH_ONLY ?? "";
const runs = (part: string) => !only || only.split(",").includes(part);

/** Round trips (at, ms) of `ids` from the worker pages, over the last minute. */
async function roundTrips(gw: BenchGateway, ids: string[]): Promise<Array<[number, number]>> {
  const out: Array<[number, number]> = [];
  for (const id of ids) {
    const { detail } = await gw.fleet.getWorker({ workerId: id, windowMinutes: 1 });
    const s = detail?.roundTripsMs;
    s?.values.forEach((v, i) => out.push([Number(s.timesMs[i] ?? 0n), v]));
  }
  return out;
}

try {
  const rows: Record<string, string>[] = [];

  // 1. Steady-state p99, 2,000 workers: the gateway warms up 75 s; the bare
  //    loop runs beside it (same farm, same machine) over the gateway's window.
  if (runs("p99")) {
    const farm = await startFarms(2000);
    const gw = await startGateway(farm.addresses, THREADS);
    await sleep(5000);
    const loadBefore = loadAverage();
    const bare = await bareLoop(farm.addresses, 10, WINDOW_S);
    // Now ~76 s after the gateway started: its last 60 samples are past the warm-up.
    const { workers } = await gw.fleet.listWorkers({});
    const gatewayMedianP99 = percentile(
      workers.map((w) => w.latency?.p99Ms ?? 0),
      50,
    );
    const pooled = await roundTrips(
      gw,
      workers.slice(0, 200).map((w) => w.id),
    );
    const gatewayPooledP99 = percentile(
      pooled.map(([, v]) => v),
      99,
    );
    rows.push({
      measure: "steady-state p99, 2,000 workers (median of per-worker p99 over 60 samples)",
      gateway: `${gatewayMedianP99.toFixed(2)} ms`,
      "bare loop": `${bare.medianTargetP99.toFixed(2)} ms`,
      note: `apart ${(gatewayMedianP99 - bare.medianTargetP99).toFixed(2)} ms (target <= 2 ms); ${THREADS} probe threads; after a 75 s warm-up`,
    });
    rows.push({
      measure: "steady-state p99, 2,000 workers (all samples pooled; gateway: 200 workers)",
      gateway: `${gatewayPooledP99.toFixed(2)} ms`,
      "bare loop": `${bare.pooledP99.toFixed(2)} ms`,
      note: `${workers.filter((w) => w.liveness === Liveness.HEALTHY).length}/2000 healthy; load average ${loadBefore} → ${loadAverage()} on ${availableParallelism()} cores`,
    });
    gw.stop();
    farm.stop();
    await sleep(1000);
  }

  // 2. Snapshot of 5,000 workers while they are probed.
  if (runs("snapshot")) {
    const farm = await startFarms(5000);
    const gw = await startGateway(farm.addresses, THREADS);
    // The bare loop beside it, on 200 other workers: what the machine itself
    // does to a heartbeat while the gateway's main thread builds the snapshot.
    const bare = bareSampler(farm.addresses.slice(4800));
    await sleep(20_000);
    const { workers } = await gw.fleet.listWorkers({});
    const sampleIds = workers.slice(0, 200).map((w) => w.id);
    const main0 = cpuMs(gw.pid, gw.pid);
    const s0 = Date.now();
    const { info } = await gw.snapshots.createSnapshot({});
    const created = Date.now();
    const main1 = cpuMs(gw.pid, gw.pid);
    await gw.snapshots.getSnapshot({ id: info?.id ?? "" });
    const got = Date.now();
    const main2 = cpuMs(gw.pid, gw.pid);
    await sleep(2500); // beats answered during the snapshot reach the main thread
    const samples = await roundTrips(gw, sampleIds);
    bare.stop();
    const inWindow = (list: Array<[number, number]>, from: number, to: number) =>
      list.filter(([t]) => t >= from && t <= to).map(([, v]) => v);
    const during = inWindow(samples, s0, got + 1000);
    const before = inWindow(samples, s0 - 10_000, s0 - 1);
    const bareDuring = inWindow(bare.samples, s0, got + 1000);
    const bareBefore = inWindow(bare.samples, s0 - 10_000, s0 - 1);
    rows.push({
      measure: "snapshot of 5,000 workers",
      gateway: `create ${created - s0} ms, get ${got - created} ms`,
      "bare loop": "",
      note: `main-thread CPU: create ${main1 - main0} ms, get ${main2 - main1} ms; ${(Number(info?.sizeBytes ?? 0n) / 1024).toFixed(0)} KiB stored; target create < 500 ms`,
    });
    rows.push({
      measure: "heartbeat p99 during the snapshot vs the 10 s before (200 workers)",
      gateway: `${percentile(during, 99).toFixed(2)} ms vs ${percentile(before, 99).toFixed(2)} ms`,
      "bare loop": `${percentile(bareDuring, 99).toFixed(2)} ms vs ${percentile(bareBefore, 99).toFixed(2)} ms`,
      note: `${during.length} and ${before.length} samples; probing runs on ${THREADS} probe threads; load average ${loadAverage()}`,
    });
    gw.stop();
    farm.stop();
    await sleep(1000);
  }

  // 3. Memory per worker at 10,000 workers: RSS against an empty gateway.
  if (runs("memory")) {
    const empty = await startGateway([], THREADS);
    await sleep(5000);
    const base = rssMiB(empty.pid);
    empty.stop();
    const farm = await startFarms(10_000);
    const gw = await startGateway(farm.addresses, THREADS);
    await sleep(30_000);
    const rss = rssMiB(gw.pid);
    const { workers } = await gw.fleet.listWorkers({});
    rows.push({
      measure: "memory per worker at 10,000 workers",
      gateway: `${(((rss - base) * 1024) / 10_000).toFixed(1)} KiB`,
      "bare loop": "",
      note: `RSS ${rss.toFixed(0)} MiB vs ${base.toFixed(0)} MiB empty; ${workers.filter((w) => w.liveness === Liveness.HEALTHY).length}/10000 healthy; rings for 15 min are allocated up front`,
    });
    gw.stop();
    farm.stop();
  }
  table(rows);
} finally {
  killAll();
}
process.exit(0);
