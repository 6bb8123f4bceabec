import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  HeartbeatResponseSchema,
  ShutdownResponseSchema,
  WorkerResponseSchema,
  type ShutdownRequest,
  type WorkerRequest,
  type WorkerResponse,
} from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import type { WorkerStats } from "../stats/worker-stats.js";

export interface ManageDeps {
  stats: WorkerStats;
  /**
   * Starts a drain (`cancel_sessions=false`) or cancel-all shutdown and
   * returns whether nothing was in flight when called.
   */
  shutdown(request: ShutdownRequest): boolean;
}

/**
 * `UdfWorker.Manage`: answers with the branch matching the request's. It does
 * only constant work on the event loop so it stays serviceable however many
 * Execute streams are busy (user code runs off the main thread).
 */
export function createManageHandler(deps: ManageDeps) {
  return (request: WorkerRequest): WorkerResponse => {
    switch (request.manage.case) {
      case "heartbeat":
        return create(WorkerResponseSchema, {
          manage: {
            case: "heartbeat",
            value: create(HeartbeatResponseSchema, { metrics: deps.stats.heartbeatMetrics() }),
          },
        });
      case "shutdown": {
        const settled = deps.shutdown(request.manage.value);
        return create(WorkerResponseSchema, {
          manage: {
            case: "shutdown",
            value: create(ShutdownResponseSchema, { sessionsSettled: settled }),
          },
        });
      }
      case undefined:
        throw new ConnectError(
          "WorkerRequest has no branch set: expected heartbeat or shutdown",
          Code.InvalidArgument,
        );
    }
  };
}
