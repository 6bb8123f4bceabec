import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import {
  ShutdownRequestSchema,
  WorkerRequestSchema,
} from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { createManageHandler } from "./manage-handler.js";
import { WorkerStats } from "../stats/worker-stats.js";
import { systemClock } from "../../shared/clock/clock.js";

describe("createManageHandler", () => {
  const stats = new WorkerStats(systemClock);
  afterEach(() => stats.close());

  it("answers a heartbeat with worker-global metrics in the heartbeat branch", () => {
    stats.activeSessions = 3;
    const handle = createManageHandler({ stats, shutdown: () => true });
    const res = handle(create(WorkerRequestSchema, { manage: { case: "heartbeat", value: {} } }));
    expect(res.manage.case).toBe("heartbeat");
    const metrics = res.manage.case === "heartbeat" ? res.manage.value.metrics : {};
    expect(metrics.active_sessions).toBe("3");
    expect(Number(metrics.uptime_ms)).toBeGreaterThanOrEqual(0);
    expect(Number(metrics.rss_bytes)).toBeGreaterThan(0);
  });

  it("answers a shutdown in the shutdown branch with what the worker reported", () => {
    const seen: boolean[] = [];
    const handle = createManageHandler({
      stats,
      shutdown: (req) => {
        seen.push(req.cancelSessions ?? false);
        return false;
      },
    });
    const res = handle(
      create(WorkerRequestSchema, {
        manage: {
          case: "shutdown",
          value: create(ShutdownRequestSchema, { cancelSessions: true }),
        },
      }),
    );
    expect(seen).toEqual([true]);
    expect(res.manage).toMatchObject({ case: "shutdown", value: { sessionsSettled: false } });
  });

  it("rejects a request with no branch as InvalidArgument", () => {
    const handle = createManageHandler({ stats, shutdown: () => true });
    try {
      handle(create(WorkerRequestSchema, {}));
      expect.unreachable();
    } catch (err) {
      expect(ConnectError.from(err).code).toBe(Code.InvalidArgument);
    }
  });
});
