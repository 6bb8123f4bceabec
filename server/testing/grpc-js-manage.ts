import * as grpc from "@grpc/grpc-js";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  WorkerRequestSchema,
  WorkerResponseSchema,
  type WorkerRequest,
  type WorkerResponse,
} from "../../gen/org/apache/spark/udf/worker/udf_message_pb.js";

/** UdfWorker.Manage for grpc-js: a Manage server written by someone else. */
const MANAGE = {
  path: "/org.apache.spark.udf.worker.UdfWorker/Manage",
  requestStream: false,
  responseStream: false,
  requestSerialize: (r: WorkerRequest) => Buffer.from(toBinary(WorkerRequestSchema, r)),
  requestDeserialize: (b: Buffer) => fromBinary(WorkerRequestSchema, b),
  responseSerialize: (r: WorkerResponse) => Buffer.from(toBinary(WorkerResponseSchema, r)),
  responseDeserialize: (b: Buffer) => fromBinary(WorkerResponseSchema, b),
};

export type ManageHandler = grpc.handleUnaryCall<WorkerRequest, WorkerResponse>;

/**
 * A grpc-js server on 127.0.0.1:0 answering Manage with `handler`; without a
 * handler it serves only some other method (a gRPC server that is not a worker).
 */
export async function startGrpcJsManage(
  handler: ManageHandler | undefined,
  options: grpc.ServerOptions = {},
): Promise<{ address: string; stop: () => void }> {
  const server = new grpc.Server(options);
  if (handler) server.addService({ manage: MANAGE }, { manage: handler });
  else server.addService({ other: { ...MANAGE, path: "/some.Other/Call" } }, { other: () => {} });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { address: `127.0.0.1:${port}`, stop: () => server.forceShutdown() };
}
