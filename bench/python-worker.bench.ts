// The Python reference worker's figures (issue 21), printed, never asserted:
// Manage heartbeat round trips while 4 sessions spin in pure Python, beside
// an idle worker, at Python's default GIL switch interval (5 ms) and at 1 ms.
// The interval bounds how long a Manage thread waits for the GIL: README,
// "The Python reference worker".
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { UdfWorker } from "../gen/org/apache/spark/udf/worker/udf_service_pb.js";
import { UDFWorkerDataFormat } from "../gen/org/apache/spark/udf/worker/common_pb.js";
import { engineSays, ExecuteDriver } from "../server/engine/execute-driver.js";
import { ManageClient } from "../server/gateway/heartbeats/manage-client.js";
import { parseHostPort } from "../server/shared/net/host-port.js";
import { killPythonWorkers, startPythonWorker } from "../server/testing/python-worker.js";
import { percentile, table } from "./harness.js";

const CALLS = 300;
const SPINNING = 4;

/** `CALLS` heartbeats 5 ms apart; the round trips of those answered, and how many were not. */
async function heartbeats(manage: ManageClient): Promise<{ rtts: number[]; missed: number }> {
  const rtts: number[] = [];
  let missed = 0;
  for (let i = 0; i < CALLS; i++) {
    const r = await manage.heartbeat(1000);
    if (r.ok) rtts.push(r.rttMs);
    else missed += 1;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { rtts, missed };
}

function row(measure: string, { rtts, missed }: { rtts: number[]; missed: number }) {
  return {
    measure,
    p50: `${percentile(rtts, 50).toFixed(2)} ms`,
    p99: `${percentile(rtts, 99).toFixed(2)} ms`,
    max: `${Math.max(...rtts).toFixed(2)} ms`,
    note: `${CALLS} calls, ${missed} missed; 2 cores`,
  };
}

const rows: Record<string, string | number>[] = [];
try {
  for (const switchMs of [5, 1]) {
    const worker = await startPythonWorker(["--switch-interval-ms", String(switchMs)]);
    const manage = new ManageClient(parseHostPort(worker.address));
    const client = createClient(
      UdfWorker,
      createGrpcTransport({ baseUrl: `http://${worker.address}` }),
    );
    rows.push(row(`Manage RTT, idle (switch interval ${switchMs} ms)`, await heartbeats(manage)));
    const spinning: ExecuteDriver[] = [];
    for (let i = 0; i < SPINNING; i++) {
      const d = new ExecuteDriver(client);
      d.send(
        engineSays.init({
          dataFormat: UDFWorkerDataFormat.ARROW,
          udf: { format: "stallwatch.demo.v1", payload: new TextEncoder().encode('{"fn":"spin"}') },
        }),
      );
      await d.next(10_000);
      d.send(engineSays.data(new Uint8Array([1])));
      spinning.push(d);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    rows.push(
      row(
        `Manage RTT, ${SPINNING} sessions spinning in Python (switch interval ${switchMs} ms)`,
        await heartbeats(manage),
      ),
    );
    for (const d of spinning) d.abort();
    manage.close();
    await worker.stop();
  }
  table(rows);
} finally {
  killPythonWorkers();
}
process.exit(0);
