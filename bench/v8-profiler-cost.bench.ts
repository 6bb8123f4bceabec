// What profiling costs our TS worker (issue 22), printed, never asserted:
// the worker process's CPU time (utime + stime, /proc/<pid>/stat) over a
// window without a profile and over a profile of the same length, at the
// sampler's default interval (1 ms), for a UDF thread blocked in a read
// (`hang`) and one spinning in user code (`spin`), in wall-clock and CPU
// mode. Real processes: a gateway, a worker with its agent, a profile
// started through ProfileService as the dashboard does.
import { readFileSync } from "node:fs";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { tableFromArrays, tableToIPC } from "apache-arrow";
import { ProfileMode } from "../gen/stallwatch/v1/agent_pb.js";
import { ActionStatus } from "../gen/stallwatch/v1/control_pb.js";
import { Liveness } from "../gen/stallwatch/v1/fleet_pb.js";
import { UdfWorker } from "../gen/org/apache/spark/udf/worker/udf_service_pb.js";
import { UDFWorkerDataFormat } from "../gen/org/apache/spark/udf/worker/common_pb.js";
import { engineSays, ExecuteDriver } from "../server/engine/execute-driver.js";
import { apiClients } from "../server/testing/api-clients.js";
import { fleetClient, waitForLiveness } from "../server/testing/fleet-client.js";
import { freshDbPath } from "../server/testing/spawn-stallwatch.js";
import { testGatewayArgs } from "../server/testing/test-gateway.js";
import { testWorkerArgs } from "../server/testing/test-worker.js";
import { killAll, startProcess, table } from "./harness.js";

const TOKEN = "bench-profiler-cost-token";
const WINDOW_MS = 10_000;
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s. */
const TICKS_PER_S = 100;

/** CPU time (user + system) of process `pid` so far, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
}

/** CPU ms per wall second of `pid` while `during` runs (at least WINDOW_MS). */
async function cpuRate(pid: number, during: () => Promise<unknown>): Promise<number> {
  const c0 = cpuMs(pid);
  const t0 = performance.now();
  await during();
  return (cpuMs(pid) - c0) / ((performance.now() - t0) / 1000);
}

const batch = tableToIPC(tableFromArrays({ x: BigInt64Array.from([1n]) }), "stream");

async function busySession(address: string, fn: "spin" | "hang"): Promise<ExecuteDriver> {
  const client = createClient(UdfWorker, createGrpcTransport({ baseUrl: `http://${address}` }));
  const d = new ExecuteDriver(client);
  d.send(
    engineSays.init({
      dataFormat: UDFWorkerDataFormat.ARROW,
      udf: {
        format: "stallwatch.demo.v1",
        payload: new TextEncoder().encode(JSON.stringify({ fn })),
      },
    }),
  );
  await d.next();
  d.send(engineSays.data(batch));
  return d;
}

const rows: Record<string, string>[] = [];
try {
  const gateway = await startProcess(
    testGatewayArgs({ operatorToken: TOKEN, db: freshDbPath() }),
    30_000,
  );
  const http = String(gateway.line.http);
  const grpc = String(gateway.line.grpc);
  const api = apiClients(http, TOKEN);
  let n = 0;
  for (const fn of ["hang", "spin"] as const) {
    const id = `cost-${fn}`;
    const worker = await startProcess(testWorkerArgs({ id, gateway: grpc }), 30_000);
    await waitForLiveness(fleetClient(http), id, Liveness.HEALTHY, 20_000);
    const pid = worker.child.pid ?? 0;
    await busySession(String(worker.line.address), fn);
    // Let the session settle (thread started, code warm).
    await new Promise((r) => setTimeout(r, 2000));
    const idle = await cpuRate(pid, () => new Promise((r) => setTimeout(r, WINDOW_MS)));
    for (const mode of [ProfileMode.WALL, ProfileMode.CPU]) {
      const profileId = `bench-${fn}-${++n}`;
      let samples = 0;
      const profiled = await cpuRate(pid, async () => {
        await api.profiles.startProfile({
          profileId,
          workerId: id,
          mode,
          durationMs: WINDOW_MS,
          reason: "bench",
        });
        for await (const u of api.profiles.watchProfile({ profileId }, { timeoutMs: 60_000 })) {
          if (u.profile?.status !== ActionStatus.RUNNING)
            samples = (u.profile?.result?.threads ?? []).reduce(
              (s, t) => s + Number(t.samplesTaken),
              0,
            );
        }
      });
      rows.push({
        udf: fn === "hang" ? "hang (thread blocked in a read)" : "spin (thread busy in user code)",
        mode: mode === ProfileMode.CPU ? "CPU" : "wall-clock",
        "worker CPU without": `${idle.toFixed(0)} ms/s`,
        "worker CPU profiling": `${profiled.toFixed(0)} ms/s`,
        "profiler cost": `${(((profiled - idle) / 1000) * 100).toFixed(1)}% of one core`,
        samples: String(samples),
      });
    }
    worker.child.kill("SIGTERM");
  }
} finally {
  killAll();
}
table(rows);
console.log(
  "1 ms interval (the sampler's default), 10 s windows; the cost includes V8's sampler thread, the UDF thread's signal handling, the main thread fetching and folding 2 s chunks, and CPU mode's 10 ms schedstat polls. A spinning thread is already at 100% of a core: its cost shows as what the rest of the process adds.",
);
process.exit(0);
