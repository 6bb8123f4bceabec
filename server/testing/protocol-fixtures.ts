import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { tableFromArrays, tableFromIPC, tableToIPC } from "apache-arrow";
import type { UdfResponse } from "../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { UDFWorkerDataFormat } from "../../gen/org/apache/spark/udf/worker/common_pb.js";
import { UdfWorker } from "../../gen/org/apache/spark/udf/worker/udf_service_pb.js";
import { describeResponse, ExecuteDriver, engineSays } from "../engine/execute-driver.js";
import { ManageClient } from "../gateway/heartbeats/manage-client.js";
import { parseHostPort } from "../shared/net/host-port.js";

export const ARROW = UDFWorkerDataFormat.ARROW;
export const DEMO = "stallwatch.demo.v1";

export function demoPayload(spec: Record<string, unknown>): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(spec));
}

/** One Arrow IPC stream with an int64 column `x`. */
export function arrowBatch(values: bigint[]): Uint8Array {
  return tableToIPC(tableFromArrays({ x: BigInt64Array.from(values) }), "stream");
}

export function column(data: Uint8Array): bigint[] {
  return [...(tableFromIPC(data).getChild("x")?.toArray() as BigInt64Array)];
}

export function clientsFor(address: string): {
  udf: Client<typeof UdfWorker>;
  manage: ManageClient;
} {
  return {
    udf: createClient(UdfWorker, createGrpcTransport({ baseUrl: `http://${address}` })),
    manage: new ManageClient(parseHostPort(address)),
  };
}

/** Opens a session with `spec` (inline payload) and returns the driver after its first response. */
export async function openSession(
  udf: Client<typeof UdfWorker>,
  spec: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<{ driver: ExecuteDriver; first: UdfResponse | undefined }> {
  const driver = new ExecuteDriver(udf);
  driver.send(
    engineSays.init({
      protocolVersion: 1,
      dataFormat: ARROW,
      udf: { format: DEMO, payload: demoPayload(spec), name: String(spec.fn) },
      ...extra,
    }),
  );
  return { driver, first: await driver.next() };
}

/** Reads responses until the stream ends; returns their names and the responses. */
export async function readToEnd(
  driver: ExecuteDriver,
  timeoutMs = 15_000,
): Promise<{ names: string[]; responses: UdfResponse[] }> {
  const names: string[] = [];
  const responses: UdfResponse[] = [];
  for (;;) {
    const r = await driver.next(timeoutMs);
    names.push(describeResponse(r));
    if (!r) break;
    responses.push(r);
    const name = names.at(-1);
    if (name === "finish" || name === "cancel" || name === "finish-error") {
      driver.end();
    }
  }
  return { names, responses };
}

/** The metrics on a terminator response. */
export function terminatorMetrics(r: UdfResponse | undefined) {
  if (r?.response.case !== "control") return undefined;
  const c = r.response.value.control;
  return c.case === "finish" || c.case === "cancel" ? c.value.metrics : undefined;
}

export function errorOf(r: UdfResponse | undefined) {
  if (r?.response.case !== "control") return undefined;
  const c = r.response.value.control;
  if (c.case === "error") return c.value.error;
  if (c.case === "init") return c.value.error;
  return undefined;
}

export async function heartbeatMetrics(manage: ManageClient): Promise<Record<string, string>> {
  const r = await manage.heartbeat(2000);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}
