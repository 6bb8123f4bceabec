// Heartbeat CPU (issue 13), printed, never asserted: the gateway vs the bare
// ManageClient loop vs h2load (nghttp2's C client), in one run, at 1,000,
// 2,000 and 5,000 workers at 1 Hz; and workers per gateway process with 1 and
// 2 probe threads. All figures are CPU time (/proc, process.cpuUsage): this
// machine is shared, and CPU time is what other people's load disturbs least.
import { ensureH2load } from "./ensure-h2load.js";
import { killAll, table } from "./harness.js";
import { bareLoop, h2loadCpuUs, loadAverage, sleep, startFarms } from "./probe-harness.js";
import { measureGatewayCpu, startGateway } from "./probe-gateway.js";

const WARMUP_S = 5;
const MEASURE_S = 10;
const pct = (share: number) => `${(share * 100).toFixed(0)}%`;

try {
  const haveH2load = await ensureH2load();
  const cpuRows: Record<string, string>[] = [];
  const capacityRows: Record<string, string>[] = [];
  for (const workers of [1000, 2000, 5000]) {
    const farm = await startFarms(workers);
    const bare = await bareLoop(farm.addresses, WARMUP_S, MEASURE_S);
    const h2load = haveH2load
      ? await h2loadCpuUs(farm.addresses[0] ?? "", workers, WARMUP_S, MEASURE_S)
      : undefined;
    for (const threads of workers === 5000 ? [1, 2] : [1]) {
      const gw = await startGateway(farm.addresses, threads);
      await sleep(WARMUP_S * 1000);
      const g = await measureGatewayCpu(gw, MEASURE_S);
      gw.stop();
      if (threads === 1) {
        cpuRows.push({
          workers: String(workers),
          "gateway µs CPU/beat": g.cpuUsPerBeat.toFixed(0),
          "bare loop µs/beat": bare.cpuUsPerBeat.toFixed(0),
          "h2load µs/beat": h2load === undefined ? "n/a" : h2load.toFixed(0),
          "gateway / h2load": h2load ? `${(g.cpuUsPerBeat / h2load).toFixed(1)}x` : "n/a",
          healthy: `${g.healthy}/${workers}`,
          "beats/s": g.beatsPerS.toFixed(0),
        });
        if (g.unhealthy) console.log(`not healthy at ${workers}: ${g.unhealthy}`);
      }
      if (workers === 5000) {
        // Each probe thread carries workers/threads beats on its own core.
        const perProbeCore = g.beatsPerS / threads / Math.max(g.busiestProbe, 1e-6);
        const mainLimit = g.beatsPerS / Math.max(g.main, 1e-6);
        capacityRows.push({
          "probe threads": String(threads),
          workers: `${g.healthy}/${workers} healthy`,
          "beats/s": g.beatsPerS.toFixed(0),
          "process CPU": pct(g.process),
          "main thread": pct(g.main),
          "busiest probe thread": pct(g.busiestProbe),
          "projected workers per process": Math.round(
            Math.min(threads * perProbeCore, mainLimit),
          ).toString(),
          "projected, 8 cores": Math.round(Math.min(8 * perProbeCore, mainLimit)).toString(),
        });
      }
    }
    farm.stop();
    await sleep(1000);
  }
  console.log(`Load average ${loadAverage()} (CPU time is what it disturbs least).`);
  console.log(
    "CPU per heartbeat at 1 Hz, one run (CPU time; lower is better; target gateway <= 3x h2load):",
  );
  table(cpuRows);
  console.log(
    "\nWorkers per gateway process at 1 Hz (5,000 measured; projections from each thread's CPU share):",
  );
  table(capacityRows);
} finally {
  killAll();
}
process.exit(0);
