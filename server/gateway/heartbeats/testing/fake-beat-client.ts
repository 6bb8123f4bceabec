import { create, toBinary } from "@bufbuild/protobuf";
import { WorkerResponseSchema } from "../../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import type { Clock } from "../../../shared/clock/clock.js";
import type { BeatClient } from "../probe-shard.js";
import type { CallFailureKind, CallResult } from "../unary-call.js";

const answer = (metrics: Record<string, string>) =>
  toBinary(
    WorkerResponseSchema,
    create(WorkerResponseSchema, { manage: { case: "heartbeat", value: { metrics } } }),
  );

/** What the fake worker does with each call, in order; the last one repeats. */
export type Reply =
  | { after: number; metrics: Record<string, string> }
  | { after: number; fail: CallFailureKind }
  | "never";

/**
 * A Manage client whose worker answers on the fake clock: no sockets, so
 * the shard's own timing (ticks, deadlines, cadence, backoff) is all that
 * is under test.
 */
export function fakeWorker(clock: Clock, replies: Reply[]) {
  const calls: number[] = [];
  let closes = 0;
  const client: BeatClient = {
    heartbeatRaw(deadlineMs, _ownTimer, done) {
      const startedAt = clock.monotonic();
      calls.push(startedAt);
      const reply = replies[Math.min(calls.length - 1, replies.length - 1)] ?? "never";
      let settled = false;
      const settle = (result: CallResult<Uint8Array>) => {
        if (settled) return;
        settled = true;
        done(result);
      };
      if (reply !== "never")
        clock.after(reply.after, () =>
          settle(
            "metrics" in reply
              ? {
                  ok: true,
                  value: answer(reply.metrics),
                  rttMs: reply.after,
                  firstOnConnection: false,
                }
              : { ok: false, kind: reply.fail, reason: reply.fail, rttMs: reply.after },
          ),
        );
      return {
        get isSettled() {
          return settled;
        },
        deadlineAt: startedAt + deadlineMs,
        expire: () =>
          settle({ ok: false, kind: "timeout", reason: "deadline exceeded", rttMs: deadlineMs }),
      };
    },
    close: () => {
      closes += 1;
    },
  };
  return { client, calls, closes: () => closes };
}
