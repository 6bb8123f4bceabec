import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  ExecutionErrorSchema,
  UdfControlResponseSchema,
  UdfResponseSchema,
  type ExecutionError,
  type ExecutionMetrics,
  type UdfResponse,
} from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";

/** Builders for what the worker writes on an Execute stream. */
function control(value: MessageInitShape<typeof UdfControlResponseSchema>["control"]): UdfResponse {
  return create(UdfResponseSchema, {
    response: { case: "control", value: create(UdfControlResponseSchema, { control: value }) },
  });
}

export const respond = {
  init: (error?: ExecutionError) => control({ case: "init", value: error ? { error } : {} }),
  data: (data: Uint8Array) =>
    create(UdfResponseSchema, { response: { case: "data", value: { data } } }),
  error: (error: ExecutionError) => control({ case: "error", value: { error } }),
  finish: (metrics: ExecutionMetrics, data?: Uint8Array) =>
    control({ case: "finish", value: data ? { metrics, data } : { metrics } }),
  cancel: (metrics: ExecutionMetrics) => control({ case: "cancel", value: { metrics } }),
};

export const errors = {
  user: (message: string, traceback: string, errorClass: string): ExecutionError =>
    create(ExecutionErrorSchema, {
      kind: { case: "user", value: { message, traceback, errorClass } },
    }),
  worker: (message: string, traceback?: string): ExecutionError =>
    create(ExecutionErrorSchema, {
      kind: { case: "worker", value: traceback ? { message, traceback } : { message } },
    }),
  protocol: (message: string): ExecutionError =>
    create(ExecutionErrorSchema, { kind: { case: "protocol", value: { message } } }),
};
