import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ShutdownRequestSchema } from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeResponse, engineSays, ExecuteDriver } from "../../testing/peer-programs.js";
import { pollUntil } from "../../testing/poll.js";
import {
  killAllStarted,
  startStallwatch,
  type StallwatchProcess,
} from "../../testing/spawn-stallwatch.js";
import { crc32 } from "./crc32.js";
import {
  ARROW,
  arrowBatch,
  clientsFor,
  column,
  DEMO,
  demoPayload,
  errorOf,
  heartbeatMetrics,
  openSession,
  readToEnd,
  terminatorMetrics,
} from "../../testing/protocol-fixtures.js";

/**
 * The Spark UDF protocol's Execute rules (shared/spec/udf-protocol.md),
 * driven against a real worker process over gRPC. Each title names the rule.
 */
describe("Execute stream rules, against a real worker", () => {
  let worker: StallwatchProcess;
  let clients: ReturnType<typeof clientsFor>;

  beforeAll(async () => {
    worker = await startStallwatch([
      "worker",
      "--listen",
      "127.0.0.1:0",
      "--id",
      "protocol",
      "--cancel-grace-ms",
      "500",
      "--max-payload-bytes",
      "4096",
    ]);
    clients = clientsFor(String(worker.listening.address));
  });
  afterAll(async () => {
    clients.manage.close();
    await worker.stop();
    killAllStarted();
  });

  it("Init with an inline payload → InitResponse; DataResponses; Finish → FinishResponse with measured metrics", async () => {
    const { driver, first } = await openSession(clients.udf, { fn: "echo" });
    expect(describeResponse(first)).toBe("init");
    driver.send(engineSays.data(arrowBatch([1n, 2n, 3n])));
    driver.send(engineSays.data(arrowBatch([4n])));
    driver.send(engineSays.finish());
    const { names, responses } = await readToEnd(driver);
    expect(names).toEqual(["data", "data", "finish", "end"]);
    const m = terminatorMetrics(responses.at(-1));
    expect(m).toMatchObject({ rowsIn: 4n, rowsOut: 4n, batchesIn: 2n, batchesOut: 2n });
    expect(m?.bytesIn).toBeGreaterThan(0n);
    expect(m?.bytesOut).toBeGreaterThan(0n);
    expect(m?.initWallNanos).toBeGreaterThan(0n);
    expect(m?.processingWallNanos).toBeGreaterThan(0n);
    expect(m?.workWallNanos).toBeGreaterThan(0n);
  });

  it("chunked payload: InitResponse waits for the chunk with last=true; payload_size and payload_crc32 match", async () => {
    const payload = demoPayload({ fn: "double" });
    const driver = new ExecuteDriver(clients.udf);
    driver.send(
      engineSays.init({
        dataFormat: ARROW,
        isChunkingPayload: true,
        udf: {
          format: DEMO,
          payload: payload.subarray(0, 3),
          payloadSize: BigInt(payload.length),
          payloadCrc32: crc32(payload),
        },
      }),
    );
    driver.send(engineSays.chunk(payload.subarray(3, 8), false));
    // Nothing may come back before the last chunk.
    await expect(driver.next(300)).rejects.toThrow(/no response within/);
    driver.send(engineSays.chunk(payload.subarray(8), true));
    expect(describeResponse(await driver.next())).toBe("init");
    driver.send(engineSays.data(arrowBatch([5n, -7n])));
    const data = await driver.next();
    expect(data?.response.case === "data" ? column(data.response.value.data) : []).toEqual([
      10n,
      -14n,
    ]);
    driver.send(engineSays.finish());
    expect((await readToEnd(driver)).names).toEqual(["finish", "end"]);
  });

  it("payload_size mismatch → ProtocolError in InitResponse, and the stream closes with CancelResponse", async () => {
    const { driver, first } = await openSession(
      clients.udf,
      { fn: "echo" },
      {
        udf: { format: DEMO, payload: demoPayload({ fn: "echo" }), payloadSize: 999n },
      },
    );
    expect(describeResponse(first)).toBe("init-error:protocol");
    expect(errorOf(first)?.kind.value?.message).toMatch(/payload_size says 999 bytes/);
    expect((await readToEnd(driver)).names).toEqual(["cancel", "end"]);
  });

  it("payload_crc32 mismatch → ProtocolError in InitResponse, then CancelResponse", async () => {
    const { driver, first } = await openSession(
      clients.udf,
      { fn: "echo" },
      {
        udf: { format: DEMO, payload: demoPayload({ fn: "echo" }), payloadCrc32: 1 },
      },
    );
    expect(describeResponse(first)).toBe("init-error:protocol");
    expect(errorOf(first)?.kind.value?.message).toMatch(
      /payload_crc32 mismatch: expected 0x00000001/,
    );
    expect((await readToEnd(driver)).names).toEqual(["cancel", "end"]);
  });

  it("data_format UNSPECIFIED → init error; the engine's Cancel ends it with CancelResponse", async () => {
    const { driver, first } = await openSession(clients.udf, { fn: "echo" }, { dataFormat: 0 });
    expect(describeResponse(first)).toBe("init-error:worker");
    expect(errorOf(first)?.kind.value?.message).toMatch(/data_format UNSPECIFIED is not supported/);
    driver.send(engineSays.cancel("init failed"));
    expect((await readToEnd(driver)).names).toEqual(["cancel", "end"]);
  });

  it("unknown fn → init error naming what is supported", async () => {
    const { driver, first } = await openSession(clients.udf, { fn: "teleport" });
    expect(errorOf(first)?.kind.value?.message).toMatch(
      /unknown fn "teleport": supported are echo, double, slow, hang/,
    );
    driver.send(engineSays.cancel());
    expect((await readToEnd(driver)).names).toEqual(["cancel", "end"]);
  });

  it("a payload over the configured limit → a clear init error", async () => {
    const { driver, first } = await openSession(clients.udf, { fn: "echo", pad: "x".repeat(5000) });
    expect(errorOf(first)?.kind.value?.message).toMatch(
      /larger than this worker's limit of 4096 bytes/,
    );
    driver.send(engineSays.cancel());
    expect((await readToEnd(driver)).names).toEqual(["cancel", "end"]);
  });

  it("generator UDF: DataResponses may start before any DataRequest", async () => {
    const { driver, first } = await openSession(clients.udf, {
      fn: "generate",
      batches: 3,
      rows: 10,
    });
    expect(describeResponse(first)).toBe("init");
    const before = [await driver.next(), await driver.next(), await driver.next()];
    expect(before.map(describeResponse)).toEqual(["data", "data", "data"]);
    driver.send(engineSays.finish());
    const { responses } = await readToEnd(driver);
    expect(terminatorMetrics(responses.at(-1))).toMatchObject({
      rowsOut: 30n,
      batchesOut: 3n,
      rowsIn: 0n,
    });
  });

  it("sink UDF emits no DataResponse", async () => {
    const { driver } = await openSession(clients.udf, { fn: "sink" });
    driver.send(engineSays.data(arrowBatch([1n, 2n])));
    driver.send(engineSays.finish());
    const { names, responses } = await readToEnd(driver);
    expect(names).toEqual(["finish", "end"]);
    expect(terminatorMetrics(responses.at(-1))).toMatchObject({ rowsIn: 2n, rowsOut: 0n });
  });

  it("bare record batches are accepted after Init.input_schema", async () => {
    const full = arrowBatch([3n]);
    // The IPC stream is: schema message, record batch message, end-of-stream.
    const { schemaBytes, batchBytes } = splitIpc(full);
    const { driver, first } = await openSession(
      clients.udf,
      { fn: "double" },
      { inputSchema: schemaBytes },
    );
    expect(describeResponse(first)).toBe("init");
    driver.send(engineSays.data(batchBytes));
    const data = await driver.next();
    expect(data?.response.case === "data" ? column(data.response.value.data) : []).toEqual([6n]);
    driver.send(engineSays.finish());
    await readToEnd(driver);
  });

  it("user error → one ErrorResponse after the last DataResponse; the engine's Cancel → CancelResponse", async () => {
    const { driver } = await openSession(clients.udf, {
      fn: "fail",
      afterBatches: 1,
      errorClass: "ZeroDivisionError",
    });
    driver.send(engineSays.data(arrowBatch([1n])));
    driver.send(engineSays.data(arrowBatch([2n])));
    expect(describeResponse(await driver.next())).toBe("data");
    const error = await driver.next();
    expect(describeResponse(error)).toBe("error:user");
    const user = errorOf(error);
    expect(user?.kind.case === "user" ? user.kind.value.errorClass : "").toBe("ZeroDivisionError");
    expect(user?.kind.case === "user" ? user.kind.value.traceback : "").toMatch(/at /);
    driver.send(engineSays.cancel("user error"));
    const { names, responses } = await readToEnd(driver);
    expect(names).toEqual(["cancel", "end"]);
    expect(terminatorMetrics(responses[0])).toMatchObject({ rowsIn: 1n, batchesIn: 1n });
  });

  it("an error in InitResponse.error (failInit) ends the same way: Cancel → CancelResponse", async () => {
    const { driver, first } = await openSession(clients.udf, {
      fn: "failInit",
      message: "no model",
    });
    expect(describeResponse(first)).toBe("init-error:user");
    expect(errorOf(first)?.kind.value?.message).toBe("no model");
    driver.send(engineSays.cancel());
    expect((await readToEnd(driver)).names).toEqual(["cancel", "end"]);
  });

  it("Finish then Cancel: the worker sends exactly one terminator, either one", async () => {
    const { driver } = await openSession(clients.udf, { fn: "echo" });
    driver.send(engineSays.finish());
    driver.send(engineSays.cancel("late"));
    const { names } = await readToEnd(driver);
    expect(["finish,end", "cancel,end"]).toContain(names.join(","));
  });

  it("Cancel after FinishResponse is too late and ignored", async () => {
    const { driver } = await openSession(clients.udf, { fn: "echo" });
    driver.send(engineSays.finish());
    expect(describeResponse(await driver.next())).toBe("finish");
    driver.send(engineSays.cancel("too late"));
    driver.end();
    expect(describeResponse(await driver.next())).toBe("end");
  });

  it("a second Init → ProtocolError in ErrorResponse, then CancelResponse", async () => {
    const { driver } = await openSession(clients.udf, { fn: "echo" });
    driver.send(
      engineSays.init({
        dataFormat: ARROW,
        udf: { format: DEMO, payload: demoPayload({ fn: "echo" }) },
      }),
    );
    const { names, responses } = await readToEnd(driver);
    expect(names).toEqual(["error:protocol", "cancel", "end"]);
    expect(errorOf(responses[0])?.kind.value?.message).toMatch(/second Init/);
  });

  it("data before InitResponse (as the first message) → ProtocolError in InitResponse, then CancelResponse", async () => {
    const driver = new ExecuteDriver(clients.udf);
    driver.send(engineSays.data(arrowBatch([1n])));
    const { names, responses } = await readToEnd(driver);
    expect(names).toEqual(["init-error:protocol", "cancel", "end"]);
    expect(errorOf(responses[0])?.kind.value?.message).toMatch(
      /expected Init as the first message, got data before Init/,
    );
  });

  it("a chunk after InitResponse → ProtocolError", async () => {
    const { driver } = await openSession(clients.udf, { fn: "echo" });
    driver.send(engineSays.chunk(new Uint8Array([1]), true));
    expect((await readToEnd(driver)).names).toEqual(["error:protocol", "cancel", "end"]);
  });

  it("a message with no oneof branch set → ProtocolError", async () => {
    const { driver } = await openSession(clients.udf, { fn: "echo" });
    driver.send(engineSays.empty());
    const { names, responses } = await readToEnd(driver);
    expect(names).toEqual(["error:protocol", "cancel", "end"]);
    expect(errorOf(responses[0])?.kind.value?.message).toMatch(/no branch set/);
  });

  it("malformed Arrow data → an error the protocol's way; the worker stays up", async () => {
    const { driver } = await openSession(clients.udf, { fn: "echo" });
    driver.send(engineSays.data(new TextEncoder().encode("definitely not arrow")));
    const error = await driver.next();
    expect(describeResponse(error)).toBe("error:worker");
    expect(errorOf(error)?.kind.value?.message).toMatch(/not valid Arrow IPC/);
    driver.send(engineSays.cancel());
    expect((await readToEnd(driver)).names).toEqual(["cancel", "end"]);
    expect((await clients.manage.heartbeat(1000)).ok).toBe(true);
  });

  it("a gRPC stream error is treated as cancel: the worker cleans up", async () => {
    const { driver } = await openSession(clients.udf, { fn: "hang" });
    driver.send(engineSays.data(arrowBatch([1n])));
    await activeSessions(clients.manage, 1);
    driver.abort();
    await activeSessions(clients.manage, 0);
  });

  it("hang in user code + in-band Cancel → thread terminated after the grace period, CancelResponse with partial metrics", async () => {
    const { driver } = await openSession(clients.udf, { fn: "hang" });
    driver.send(engineSays.data(arrowBatch([1n])));
    await new Promise((r) => setTimeout(r, 200));
    const sent = Date.now();
    driver.send(engineSays.cancel("stuck"));
    const { names, responses } = await readToEnd(driver);
    expect(names).toEqual(["cancel", "end"]);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(450);
    expect(terminatorMetrics(responses[0])?.bytesIn).toBeGreaterThan(0n);
  });

  it("spin in user code + Cancel → user code yields to the flag", async () => {
    const { driver } = await openSession(clients.udf, { fn: "spin" });
    driver.send(engineSays.data(arrowBatch([1n])));
    await new Promise((r) => setTimeout(r, 200));
    driver.send(engineSays.cancel("enough"));
    expect((await readToEnd(driver)).names).toEqual(["cancel", "end"]);
  });

  it("Manage stays serviceable while 4 sessions spin in user code", async () => {
    const spinning = await Promise.all(
      [0, 1, 2, 3].map(() => openSession(clients.udf, { fn: "spin" })),
    );
    for (const s of spinning) s.driver.send(engineSays.data(arrowBatch([1n])));
    await activeSessions(clients.manage, 4);
    for (let i = 0; i < 5; i++) {
      const r = await clients.manage.heartbeat(500);
      expect(r.ok).toBe(true);
    }
    for (const s of spinning) s.driver.send(engineSays.cancel());
    for (const s of spinning) expect((await readToEnd(s.driver)).names).toEqual(["cancel", "end"]);
    const metrics = await heartbeatMetrics(clients.manage);
    expect(Number(metrics.sessions_cancelled)).toBeGreaterThanOrEqual(4);
    expect(Number(metrics.rows_in)).toBeGreaterThan(0);
  });
});

describe("Manage shutdown, against a real worker", () => {
  afterAll(() => killAllStarted());

  it("drain: in-flight sessions complete normally, new Execute is refused, the worker exits 0", async () => {
    const worker = await startStallwatch(["worker", "--listen", "127.0.0.1:0"]);
    const { udf, manage } = clientsFor(String(worker.listening.address));
    const { driver } = await openSession(udf, { fn: "slow", msPerBatch: 800 });
    driver.send(engineSays.data(arrowBatch([1n])));
    await activeSessions(manage, 1);
    const settled = await manage.shutdown(
      create(ShutdownRequestSchema, { reason: "drain test", cancelSessions: false }),
      2000,
    );
    expect(settled).toMatchObject({ ok: true, value: false });
    // A new session during the drain is refused.
    const refused = new ExecuteDriver(udf);
    refused.send(
      engineSays.init({
        dataFormat: ARROW,
        udf: { format: DEMO, payload: demoPayload({ fn: "echo" }) },
      }),
    );
    await expect(refused.next()).rejects.toSatisfy(
      (err: unknown) =>
        ConnectError.from(err).code === Code.Unavailable && /draining/.test(String(err)),
    );
    // The in-flight one finishes normally.
    driver.send(engineSays.finish());
    expect((await readToEnd(driver)).names).toEqual(["data", "finish", "end"]);
    expect(await worker.exited).toBe(0);
    manage.close();
  });

  it("cancel-all: every in-flight stream gets ErrorResponse{WorkerError} then CancelResponse; the worker exits 0", async () => {
    const worker = await startStallwatch([
      "worker",
      "--listen",
      "127.0.0.1:0",
      "--cancel-grace-ms",
      "300",
    ]);
    const { udf, manage } = clientsFor(String(worker.listening.address));
    const sessions = await Promise.all([
      openSession(udf, { fn: "hang" }),
      openSession(udf, { fn: "spin" }),
    ]);
    for (const s of sessions) s.driver.send(engineSays.data(arrowBatch([1n])));
    await activeSessions(manage, 2);
    const answer = await manage.shutdown(
      create(ShutdownRequestSchema, { reason: "incident", cancelSessions: true }),
      2000,
    );
    expect(answer).toMatchObject({ ok: true, value: false });
    for (const s of sessions) {
      const { names, responses } = await readToEnd(s.driver);
      expect(names).toEqual(["error:worker", "cancel", "end"]);
      expect(errorOf(responses[0])?.kind.value?.message).toMatch(
        /cancelled by worker shutdown: incident/,
      );
    }
    expect(await worker.exited).toBe(0);
    manage.close();
  });

  it("drain with nothing in flight: sessions_settled is true and the worker exits 0", async () => {
    const worker = await startStallwatch(["worker", "--listen", "127.0.0.1:0"]);
    const { manage } = clientsFor(String(worker.listening.address));
    const answer = await manage.shutdown(create(ShutdownRequestSchema, { reason: "idle" }), 2000);
    expect(answer).toMatchObject({ ok: true, value: true });
    expect(await worker.exited).toBe(0);
    manage.close();
  });
});

/** Waits until the worker's heartbeat says `n` sessions are active. */
async function activeSessions(manage: ReturnType<typeof clientsFor>["manage"], n: number) {
  await pollUntil(
    async () => ((await heartbeatMetrics(manage)).active_sessions === String(n) ? true : undefined),
    { what: `${n} active sessions` },
  );
}

/** Splits an Arrow IPC stream into its schema message and its first record-batch message. */
function splitIpc(stream: Uint8Array): { schemaBytes: Uint8Array; batchBytes: Uint8Array } {
  // Each IPC message: 0xFFFFFFFF continuation, int32 metadata length, metadata, body.
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  const messageEnd = (at: number, bodyLength: number) =>
    at + 8 + view.getInt32(at + 4, true) + bodyLength;
  const schemaEnd = messageEnd(0, 0);
  // The record batch's body length is in its flatbuffer metadata; take everything up to the end-of-stream marker.
  const eos = stream.length - 8;
  return {
    schemaBytes: stream.subarray(0, schemaEnd),
    batchBytes: stream.subarray(schemaEnd, eos),
  };
}
