// Manage(Heartbeat) cost per call: our ManageClient (raw HTTP/2 frames) against
// connect-node's gRPC client, on loopback against real worker processes.
// Prints calls/s, latency and client CPU per call; nothing is asserted.
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { WorkerRequestSchema } from "../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { UdfWorker } from "../gen/org/apache/spark/udf/worker/udf_service_pb.js";
import { ManageClient } from "../server/gateway/heartbeats/manage-client.js";
import { parseHostPort } from "../server/shared/net/host-port.js";
import { killAll, percentile, startProcess, table } from "./harness.js";
import { testWorkerArgs } from "../server/testing/test-worker.js";

const SEQUENTIAL_CALLS = 3000;
const FANOUT_TARGETS = 400;
const FANOUT_SECONDS = 5;

type Call = () => Promise<void>;

// A failed call (e.g. a deadline missed on a loaded, shared machine) is counted, not fatal.
let failures = 0;
const counted =
  (call: Call): Call =>
  () =>
    call().catch(() => {
      failures += 1;
    });

async function sequential(name: string, rawCall: Call) {
  const call = counted(rawCall);
  failures = 0;
  for (let i = 0; i < 200; i++) await call(); // warm up
  const rtts: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < SEQUENTIAL_CALLS; i++) {
    const s = performance.now();
    await call();
    rtts.push(performance.now() - s);
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    client: name,
    "calls/s": Math.round((SEQUENTIAL_CALLS / wall) * 1000),
    "p50 ms": percentile(rtts, 50).toFixed(3),
    "p99 ms": percentile(rtts, 99).toFixed(3),
    "client CPU µs/call": Math.round((cpu.user + cpu.system) / SEQUENTIAL_CALLS),
    failed: failures,
  };
}

/** One call per target per second, each target its own connection, like the prober. */
async function fanout(name: string, rawCalls: Call[]) {
  const calls = rawCalls.map(counted);
  failures = 0;
  await Promise.all(calls.map((c) => c()));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let tick = 0; tick < FANOUT_SECONDS; tick++) {
    const start = performance.now();
    await Promise.all(calls.map((c) => c()));
    await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - start))));
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuMsPerTick = (cpu.user + cpu.system) / 1000 / FANOUT_SECONDS;
  return {
    client: name,
    targets: calls.length,
    "wall s": ((performance.now() - t0) / 1000).toFixed(1),
    "CPU ms per tick": cpuMsPerTick.toFixed(1),
    "µs per heartbeat": Math.round((cpuMsPerTick * 1000) / calls.length),
    "workers per core at 1 Hz": Math.round((1000 / cpuMsPerTick) * calls.length),
    failed: failures,
  };
}

try {
  const workers = await Promise.all(
    [0, 1].map((i) => startProcess(testWorkerArgs({ id: `bench-${i}` }))),
  );
  const addresses = workers.map((w) => String(w.line.address));
  const first = addresses[0] ?? "";

  const raw = new ManageClient(parseHostPort(first));
  const connect = createClient(UdfWorker, createGrpcTransport({ baseUrl: `http://${first}` }));
  const heartbeat = create(WorkerRequestSchema, { manage: { case: "heartbeat", value: {} } });
  const rawCall: Call = async () => {
    const r = await raw.heartbeat(1000);
    if (!r.ok) throw new Error(r.reason);
  };
  const connectCall: Call = async () => {
    await connect.manage(heartbeat, { timeoutMs: 1000 });
  };
  console.log(`Sequential Manage(Heartbeat), ${SEQUENTIAL_CALLS} calls, loopback:`);
  table([
    await sequential("ManageClient (raw HTTP/2 frames)", rawCall),
    await sequential("connect-node gRPC", connectCall),
  ]);
  raw.close();

  const rawTargets = Array.from({ length: FANOUT_TARGETS }, (_, i) => {
    const c = new ManageClient(parseHostPort(addresses[i % addresses.length] ?? first));
    return async () => {
      await c.heartbeat(1000);
    };
  });
  const connectTargets = Array.from({ length: FANOUT_TARGETS }, (_, i) => {
    const c = createClient(
      UdfWorker,
      createGrpcTransport({ baseUrl: `http://${addresses[i % addresses.length] ?? first}` }),
    );
    return async () => {
      await c.manage(heartbeat, { timeoutMs: 1000 });
    };
  });
  console.log(
    `\nFan-out at 1 Hz, ${FANOUT_TARGETS} connections over ${addresses.length} worker processes, ${FANOUT_SECONDS} s:`,
  );
  table([
    await fanout("ManageClient (raw HTTP/2 frames)", rawTargets),
    await fanout("connect-node gRPC", connectTargets),
  ]);
} finally {
  killAll();
}
process.exit(0);
