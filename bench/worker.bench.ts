// Reference worker figures (issue 3), printed, never asserted:
// - Manage heartbeat round trip while 8 sessions spin in user code (target p99 < 5 ms)
// - echo throughput for one worker: sessions/s and rows/s
// - cancel of a hung UDF: in-band Cancel → CancelResponse (target: grace + 50 ms)
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { tableFromArrays, tableToIPC } from "apache-arrow";
import { UdfWorker } from "../gen/org/apache/spark/udf/worker/udf_service_pb.js";
import { UDFWorkerDataFormat } from "../gen/org/apache/spark/udf/worker/common_pb.js";
import { runEngineSession } from "../server/engine/engine-session.js";
import { describeResponse, engineSays, ExecuteDriver } from "../server/engine/execute-driver.js";
import { ManageClient } from "../server/gateway/heartbeats/manage-client.js";
import { parseHostPort } from "../server/shared/net/host-port.js";
import { killAll, percentile, startProcess, table } from "./harness.js";
import { testWorkerArgs } from "../server/testing/test-worker.js";

const GRACE_MS = 500;
const ROWS = 1000;
const batch = tableToIPC(
  tableFromArrays({ x: BigInt64Array.from({ length: ROWS }, (_, i) => BigInt(i)) }),
  "stream",
);
const payload = (spec: object) => new TextEncoder().encode(JSON.stringify(spec));

/** A session of the demo UDF `fn` with one batch sent: "spin" keeps busy, "hang" never returns. */
async function openDemo(
  client: ReturnType<typeof createClient<typeof UdfWorker>>,
  fn: "spin" | "hang",
) {
  const d = new ExecuteDriver(client);
  d.send(
    engineSays.init({
      dataFormat: UDFWorkerDataFormat.ARROW,
      udf: { format: "stallwatch.demo.v1", payload: payload({ fn }) },
    }),
  );
  await d.next();
  d.send(engineSays.data(batch));
  return d;
}

try {
  const { line } = await startProcess(testWorkerArgs({ flags: { "cancel-grace-ms": GRACE_MS } }));
  const address = String(line.address);
  const client = createClient(UdfWorker, createGrpcTransport({ baseUrl: `http://${address}` }));
  const manage = new ManageClient(parseHostPort(address));
  const rows: Record<string, string | number>[] = [];

  // 1. Manage while 8 sessions spin.
  const idle: number[] = [];
  for (let i = 0; i < 300; i++) {
    const r = await manage.heartbeat(1000);
    if (r.ok) idle.push(r.rttMs);
  }
  const spinning = await Promise.all(Array.from({ length: 8 }, () => openDemo(client, "spin")));
  await new Promise((r) => setTimeout(r, 500));
  const busy: number[] = [];
  let missed = 0;
  for (let i = 0; i < 300; i++) {
    const r = await manage.heartbeat(1000);
    if (r.ok) busy.push(r.rttMs);
    else missed += 1;
    await new Promise((r2) => setTimeout(r2, 5));
  }
  rows.push({
    measure: "Manage RTT, idle worker",
    p50: `${percentile(idle, 50).toFixed(2)} ms`,
    p99: `${percentile(idle, 99).toFixed(2)} ms`,
    note: "300 calls",
  });
  rows.push({
    measure: "Manage RTT, 8 sessions spinning",
    p50: `${percentile(busy, 50).toFixed(2)} ms`,
    p99: `${percentile(busy, 99).toFixed(2)} ms`,
    note: `300 calls, ${missed} missed; target p99 < 5 ms; 2 cores`,
  });
  for (const d of spinning) d.send(engineSays.cancel());
  for (const d of spinning) {
    for (;;) {
      const r = await d.next(10_000);
      if (!r || describeResponse(r) === "cancel") break;
    }
    d.end();
  }

  // 2. Echo throughput.
  const SESSIONS = 200;
  const CONCURRENCY = 4;
  let started = 0;
  let finished = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (started < SESSIONS) {
        started += 1;
        const r = await runEngineSession(client, {
          udf: { fn: "echo" },
          batches: 5,
          batch,
          taskContext: {},
          answerTimeoutMs: 10_000,
        });
        if (r.outcome === "finished") finished += 1;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  rows.push({
    measure: "echo throughput",
    p50: `${(finished / seconds).toFixed(0)} sessions/s`,
    p99: `${((finished * 5 * ROWS) / seconds).toFixed(0)} rows/s`,
    note: `${SESSIONS} sessions x 5 batches x ${ROWS} rows, ${CONCURRENCY} at a time`,
  });

  // 3. Cancel of a hung UDF.
  const cancelTimes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const d = await openDemo(client, "hang");
    await new Promise((r) => setTimeout(r, 100));
    const sent = performance.now();
    d.send(engineSays.cancel("bench"));
    for (;;) {
      const r = await d.next(10_000);
      if (!r || describeResponse(r) === "cancel") break;
    }
    cancelTimes.push(performance.now() - sent);
    d.end();
  }
  rows.push({
    measure: "hung UDF: Cancel → CancelResponse",
    p50: `${percentile(cancelTimes, 50).toFixed(0)} ms`,
    p99: `${Math.max(...cancelTimes).toFixed(0)} ms (max)`,
    note: `grace ${GRACE_MS} ms; target grace + 50 ms`,
  });
  table(rows);
  manage.close();
} finally {
  killAll();
}
process.exit(0);
