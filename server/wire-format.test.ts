import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  WorkerStatusRequestSchema,
  WorkerStatusResponseSchema,
  BeamFnWorkerStatus,
} from "../gen/org/apache/beam/model/fn_execution/v1/beam_fn_api_pb.js";
import { UDFWorkerDataFormat } from "../gen/org/apache/spark/udf/worker/common_pb.js";
import {
  CancelResponseSchema,
  ExecutionErrorSchema,
  ExecutionMetricsSchema,
  HeartbeatResponseSchema,
  InitSchema,
  PayloadChunkSchema,
  ShutdownRequestSchema,
  UdfPayloadSchema,
  UdfRequestSchema,
  WorkerRequestSchema,
  WorkerResponseSchema,
} from "../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { UdfWorker } from "../gen/org/apache/spark/udf/worker/udf_service_pb.js";

/**
 * Proves our generated code puts every field where upstream does: each
 * message is encoded and compared with bytes written by hand from the spec
 * (tag = field_number << 3 | wire_type; 0 varint, 1 fixed64, 2 length-delimited).
 */
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("Spark UDF protocol wire format (udf_message.proto)", () => {
  it("Init: protocol_version=1, data_format=2, udf=3, is_chunking_payload=4, task_context=7, timezone=9, parameters=100", () => {
    const init = create(InitSchema, {
      protocolVersion: 1,
      dataFormat: UDFWorkerDataFormat.ARROW,
      udf: { format: "f" },
      isChunkingPayload: true,
      taskContext: { k: "v" },
      timezone: "Z",
      parameters: new Uint8Array([0xff]),
    });
    expect(hex(toBinary(InitSchema, init))).toBe(
      [
        "0801", // 1 protocol_version varint 1
        "1001", // 2 data_format varint ARROW=1
        "1a03" + "1201" + "66", // 3 udf (len 3) { 2 format "f" }
        "2001", // 4 is_chunking_payload true
        "3a06" + "0a01" + "6b" + "1201" + "76", // 7 task_context entry (len 6) { 1 key "k", 2 value "v" }
        "4a01" + "5a", // 9 timezone "Z"
        "a20601" + "ff", // 100 parameters: tag (100<<3|2)=802 → varint a2 06, len 1
      ].join(""),
    );
  });

  it("UdfPayload: payload=1, format=2, payload_size=3 (int64), name=4, eval_type=5, payload_crc32=6", () => {
    const p = create(UdfPayloadSchema, {
      payload: new Uint8Array([1]),
      format: "a",
      payloadSize: 300n,
      name: "n",
      evalType: "e",
      payloadCrc32: 0xcbf43926,
    });
    expect(hex(toBinary(UdfPayloadSchema, p))).toBe(
      [
        "0a0101", // 1 payload
        "120161", // 2 format "a"
        "18ac02", // 3 payload_size varint 300
        "22016e", // 4 name "n"
        "2a0165", // 5 eval_type "e"
        "30a6f2d0df0c", // 6 payload_crc32 varint 0xcbf43926 (7-bit groups a6 f2 d0 df 0c)
      ].join(""),
    );
  });

  it("PayloadChunk: data=1, last=2", () => {
    expect(
      hex(
        toBinary(
          PayloadChunkSchema,
          create(PayloadChunkSchema, { data: new Uint8Array([7]), last: true }),
        ),
      ),
    ).toBe("0a0107" + "1001");
  });

  it("UdfRequest → control=1 → payload=2; data=2", () => {
    const chunk = create(UdfRequestSchema, {
      request: {
        case: "control",
        value: { control: { case: "payload", value: { data: new Uint8Array([9]) } } },
      },
    });
    expect(hex(toBinary(UdfRequestSchema, chunk))).toBe("0a05" + "1203" + "0a0109");
    const data = create(UdfRequestSchema, {
      request: { case: "data", value: { data: new Uint8Array([1, 2]) } },
    });
    expect(hex(toBinary(UdfRequestSchema, data))).toBe("1204" + "0a020102");
  });

  it("ExecutionMetrics: bytes_in=1 … work_cpu_nanos=12", () => {
    const m = create(ExecutionMetricsSchema, {
      bytesIn: 1n,
      rowsOut: 2n,
      workWallNanos: 3n,
      workCpuNanos: 4n,
    });
    expect(hex(toBinary(ExecutionMetricsSchema, m))).toBe(
      "0801" + // 1 bytes_in
        "2002" + // 4 rows_out
        "5803" + // 11 work_wall_nanos
        "6004", // 12 work_cpu_nanos
    );
  });

  it("ExecutionError oneof: user=1, worker=2, protocol=3; UserError error_class=3", () => {
    const user = create(ExecutionErrorSchema, {
      kind: { case: "user", value: { message: "m", errorClass: "E" } },
    });
    expect(hex(toBinary(ExecutionErrorSchema, user))).toBe("0a06" + "0a016d" + "1a0145");
    const worker = create(ExecutionErrorSchema, {
      kind: { case: "worker", value: { message: "m" } },
    });
    expect(hex(toBinary(ExecutionErrorSchema, worker))).toBe("1203" + "0a016d");
    const protocol = create(ExecutionErrorSchema, {
      kind: { case: "protocol", value: { message: "m" } },
    });
    expect(hex(toBinary(ExecutionErrorSchema, protocol))).toBe("1a03" + "0a016d");
  });

  it("CancelResponse: metrics=1, error=2", () => {
    const c = create(CancelResponseSchema, {
      metrics: { rowsIn: 5n },
      error: { kind: { case: "protocol", value: { message: "" } } },
    });
    expect(hex(toBinary(CancelResponseSchema, c))).toBe("0a02" + "1805" + "1202" + "1a00");
  });

  it("WorkerRequest: heartbeat=1 (empty, reserved 1), shutdown=2 {reason=1, cancel_sessions=2}", () => {
    const hb = create(WorkerRequestSchema, { manage: { case: "heartbeat", value: {} } });
    expect(hex(toBinary(WorkerRequestSchema, hb))).toBe("0a00");
    const sd = create(WorkerRequestSchema, {
      manage: {
        case: "shutdown",
        value: create(ShutdownRequestSchema, { reason: "r", cancelSessions: true }),
      },
    });
    expect(hex(toBinary(WorkerRequestSchema, sd))).toBe("1205" + "0a0172" + "1001");
  });

  it("HeartbeatResponse: metrics map=1; WorkerResponse shutdown=2 {sessions_settled=1}", () => {
    const hb = create(HeartbeatResponseSchema, { metrics: { a: "1" } });
    expect(hex(toBinary(HeartbeatResponseSchema, hb))).toBe("0a06" + "0a0161" + "120131");
    const decoded = fromBinary(WorkerResponseSchema, Buffer.from("1202" + "0801", "hex"));
    expect(decoded.manage).toMatchObject({ case: "shutdown", value: { sessionsSettled: true } });
  });
});

describe("Beam worker status wire format (beam_fn_api.proto)", () => {
  it("WorkerStatusRequest: id=1", () => {
    expect(
      hex(toBinary(WorkerStatusRequestSchema, create(WorkerStatusRequestSchema, { id: "x" }))),
    ).toBe("0a0178");
  });

  it("WorkerStatusResponse: id=1, error=2, status_info=3", () => {
    const r = create(WorkerStatusResponseSchema, { id: "i", error: "e", statusInfo: "s" });
    expect(hex(toBinary(WorkerStatusResponseSchema, r))).toBe("0a0169" + "120165" + "1a0173");
    expect(fromBinary(WorkerStatusResponseSchema, Buffer.from("1a0173", "hex")).statusInfo).toBe(
      "s",
    );
  });
});

describe("service descriptors", () => {
  it("UdfWorker: Execute bidi, Manage unary, under org.apache.spark.udf.worker", () => {
    expect(UdfWorker.typeName).toBe("org.apache.spark.udf.worker.UdfWorker");
    expect(UdfWorker.method.execute.name).toBe("Execute");
    expect(UdfWorker.method.execute.methodKind).toBe("bidi_streaming");
    expect(UdfWorker.method.manage.name).toBe("Manage");
    expect(UdfWorker.method.manage.methodKind).toBe("unary");
  });

  it("BeamFnWorkerStatus: WorkerStatus bidi, responses in, requests out", () => {
    expect(BeamFnWorkerStatus.typeName).toBe(
      "org.apache.beam.model.fn_execution.v1.BeamFnWorkerStatus",
    );
    const m = BeamFnWorkerStatus.method.workerStatus;
    expect(m.name).toBe("WorkerStatus");
    expect(m.methodKind).toBe("bidi_streaming");
    expect(m.input.typeName).toBe("org.apache.beam.model.fn_execution.v1.WorkerStatusResponse");
    expect(m.output.typeName).toBe("org.apache.beam.model.fn_execution.v1.WorkerStatusRequest");
  });
});
