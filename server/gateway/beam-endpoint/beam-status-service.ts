import type { WorkerOwnership as ClusterOwnership } from "../cluster/worker-ownership.js";
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  BeamFnWorkerStatus,
  WorkerStatusRequestSchema,
  type WorkerStatusRequest,
  type WorkerStatusResponse,
} from "../../../gen/org/apache/beam/model/fn_execution/v1/beam_fn_api_pb.js";
import type { ThreadDumpView } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { sleep, systemClock, type Clock, type Timer } from "../../shared/clock/clock.js";
import type { Logger } from "../../shared/logging/logger.js";
import { peerAddressKey } from "../../shared/net/peer-address.js";
import { BoundedQueue } from "../fleet/bounded-queue.js";
import type { FleetWorker } from "../fleet/fleet-worker.js";
import type { Fleet } from "../fleet/fleet.js";
import type { BeamMetrics } from "./beam-metrics.js";
import {
  BeamRefused,
  BeamStreams,
  type BeamStreamHandle,
  type BeamStreamLimits,
} from "./beam-streams.js";
import { startPinger } from "./stream-pinger.js";
import { http2SessionKey, http2StreamKey, streamBroken } from "./stream-context.js";

/** What a harness answered, before parsing (parsed once, by `ingest`). */
export interface BeamAnswer {
  receivedAtMs: number;
  rttMs: number;
  /** status_info, clipped to the byte cap. */
  text: string;
  /** Bytes beyond the cap that were dropped (0 when none). */
  cutBytes: number;
  error: string;
}

/** Asks one harness for its status now; resolves with the dump it produced, or undefined. */
export interface BeamChannel {
  requestStatus(trigger: string): Promise<ThreadDumpView | undefined>;
}

/** Live Beam streams by worker id, for the status collector. */
export type BeamChannels = Map<string, BeamChannel>;

export interface BeamStatusOptions extends BeamStreamLimits {
  /** HTTP/2 PING cadence: the harness's heartbeat. */
  intervalMs: number;
  /** How long a PING may take to be acknowledged. */
  deadlineMs: number;
  /** How long a harness may take to answer one status request. */
  statusDeadlineMs: number;
  /** Status text beyond this many bytes is cut (and flagged). */
  maxStatusBytes: number;
  channels: BeamChannels;
  /** Cluster-wide claim on the worker id, asked before the stream is adopted (server/gateway/cluster). */
  clusterOwnership?: ClusterOwnership;
  /** Parses and stores one answer (once, on arrival); returns the dump it made. */
  ingest(worker: FleetWorker, answer: BeamAnswer, trigger: string): ThreadDumpView | undefined;
  /** Records a fleet event about a harness (identity problems). */
  onEvent(workerId: string, summary: string): void;
  metrics?: BeamMetrics;
  log: Logger;
  clock?: Clock;
}

/** Codes a request-stream error carries when the harness sent bytes we cannot decode. */
const MALFORMED = new Set([
  Code.InvalidArgument,
  Code.Internal,
  Code.ResourceExhausted,
  Code.Unimplemented,
]);

/**
 * The runner side of Beam's `BeamFnWorkerStatus`. Every harness that dials in
 * becomes a `beam` worker (see BeamStreams for who may hold which id). Its
 * liveness comes from the stream: HTTP/2 PINGs with a deadline, and how the
 * stream ends (half-close: exited; reset or broken: gone). Thread dumps are
 * requested separately on the collector's budget, one in flight, each with a
 * deadline, and each answer is parsed once, when it arrives.
 *
 * We never end a live harness's stream ourselves: Beam's Python client loses
 * the first answer on a reopened stream (shared/notes/measured-here.md), so a
 * late or lost reply is tolerated instead of "resetting" the stream.
 */
export function createBeamStatusService(
  fleet: Fleet,
  opts: BeamStatusOptions,
): ServiceImpl<typeof BeamFnWorkerStatus> {
  const streams = new BeamStreams(fleet, opts);
  const clock = opts.clock ?? systemClock;
  const refuse = (err: BeamRefused, fields: Record<string, unknown>) => {
    opts.metrics?.refusal(err.reason);
    opts.log.warn(
      { ...fields, reason: err.reason, err: err.rawMessage },
      "beam status stream refused",
    );
    throw err;
  };

  return {
    async *workerStatus(responses, context) {
      const peer = context.values.get(peerAddressKey);
      const session = context.values.get(http2SessionKey);
      let id: string;
      let replaced: BeamStreamHandle | undefined;
      try {
        const claim = BeamStreams.idFor(context.requestHeader.get("worker_id"), peer);
        id = claim.id;
        if (opts.clusterOwnership && !(await opts.clusterOwnership.claim(id)))
          throw new BeamRefused(
            `worker id "${id}" is connected to another gateway of this cluster`,
            Code.AlreadyExists,
            "duplicate_id",
          );
        replaced = streams.check(id, session);
        if (claim.fromPeer) {
          opts.log.warn(
            { worker: id, peer },
            "beam harness sent no worker_id header; keyed by its peer address",
          );
          opts.onEvent(
            id,
            `Beam harness at ${peer} sent no worker_id header: keyed by its address`,
          );
        }
      } catch (err) {
        if (!(err instanceof BeamRefused)) throw err;
        if (err.reason === "duplicate_id" || err.reason === "kind_conflict")
          opts.onEvent(
            context.requestHeader.get("worker_id") ?? peer,
            `Beam stream from ${peer} refused: ${err.rawMessage}`,
          );
        return refuse(err, { peer, workerId: context.requestHeader.get("worker_id") });
      }

      const abort = new AbortController();
      let abortReason: string | undefined;
      const handle: BeamStreamHandle = {
        workerId: id,
        peer,
        session,
        openedAtMs: clock.now(),
        abort(reason) {
          abortReason = reason;
          abort.abort();
        },
      };
      if (replaced) {
        replaced.abort(`taken over by a new stream from ${peer}`);
        streams.remove(replaced);
        opts.onEvent(
          id,
          `Beam stream from ${peer} took over from ${replaced.peer}, whose stream had stopped answering`,
        );
      }
      streams.add(handle);
      opts.metrics?.streamOpened();
      const worker = adopt(fleet, id, peer);
      const log = opts.log.child({ worker: id, kind: "beam" });
      log.info({ address: peer }, "beam harness connected");

      const outbox = new BoundedQueue<WorkerStatusRequest>(4);
      let pending:
        | {
            id: string;
            sentAt: number;
            trigger: string;
            timer: Timer;
            done: Promise<ThreadDumpView | undefined>;
            resolve: (d: ThreadDumpView | undefined) => void;
          }
        | undefined;
      const settle = (dump: ThreadDumpView | undefined) => {
        if (!pending) return;
        pending.timer.cancel();
        pending.resolve(dump);
        pending = undefined;
      };
      const channel: BeamChannel = {
        requestStatus(trigger) {
          if (pending) return pending.done; // one request in flight per harness
          let resolve!: (d: ThreadDumpView | undefined) => void;
          const done = new Promise<ThreadDumpView | undefined>((r) => (resolve = r));
          const requestId = randomUUID();
          const timer = clock.after(opts.statusDeadlineMs, () => {
            log.debug({ id: requestId }, `no status answer within ${opts.statusDeadlineMs} ms`);
            settle(undefined);
          });
          pending = { id: requestId, sentAt: clock.monotonic(), trigger, timer, done, resolve };
          outbox.push(create(WorkerStatusRequestSchema, { id: requestId }));
          return done;
        },
      };
      opts.channels.set(id, channel);

      const onResponse = (response: WorkerStatusResponse) => {
        if (!pending || response.id !== pending.id) {
          log.debug({ id: response.id.slice(0, 100) }, "late or unknown status answer ignored");
          return;
        }
        const bytes = Buffer.byteLength(response.statusInfo);
        const cutBytes = Math.max(0, bytes - opts.maxStatusBytes);
        const text =
          cutBytes > 0
            ? Buffer.from(response.statusInfo).subarray(0, opts.maxStatusBytes).toString()
            : response.statusInfo;
        if (cutBytes > 0) {
          opts.metrics?.cut("bytes");
          log.warn({ bytes, cap: opts.maxStatusBytes }, "status text over the cap, cut");
        }
        const answer = {
          receivedAtMs: clock.now(),
          rttMs: clock.monotonic() - pending.sentAt,
          text,
          cutBytes,
          error: response.error.slice(0, 10_000),
        };
        const trigger = pending.trigger;
        // Without an HTTP/2 session to ping, an answer is the only sign of life.
        if (!session) fleet.beatAnswered(worker, answer.receivedAtMs);
        settle(opts.ingest(worker, answer, trigger));
      };

      let ended: { how: "exited" | "gone" | "malformed"; reason: string } | undefined;
      const reader = (async () => {
        try {
          for await (const response of responses) onResponse(response);
          // connect ends the request iterable on a reset as on a half-close; the stream tells them apart.
          const h2 = context.values.get(http2StreamKey);
          // A reset's flags land with the stream's close: give it a moment (a half-close stays open).
          if (h2 && !h2.closed)
            await new Promise<void>((resolve) => {
              const timer = setTimeout(done, 200);
              function done() {
                clearTimeout(timer);
                h2?.off("close", done);
                resolve();
              }
              h2.once("close", done);
            });
          ended = streamBroken(h2)
            ? {
                how: "gone",
                reason: `status stream reset by the harness (code ${h2?.rstCode ?? "none"})`,
              }
            : { how: "exited", reason: "the harness closed its status stream" };
        } catch (err) {
          const e = ConnectError.from(err);
          ended =
            !context.signal.aborted && MALFORMED.has(e.code)
              ? { how: "malformed", reason: `malformed WorkerStatusResponse: ${e.rawMessage}` }
              : { how: "gone", reason: `status stream broke: ${e.rawMessage}` };
        }
        abort.abort();
      })();
      const stopPinger = startPinger(session, opts.intervalMs, opts.deadlineMs, (result) => {
        const now = clock.now();
        if (result.ok) fleet.beatAnswered(worker, now, { rttMs: result.rttMs });
        else fleet.beatMissed(worker, now, result.reason);
      });
      const signal = AbortSignal.any([context.signal, abort.signal]);
      try {
        for (;;) {
          const requests = await outbox.takeAll(signal, opts.intervalMs);
          if (requests === undefined) break;
          for (const request of requests) yield request;
        }
      } finally {
        stopPinger();
        settle(undefined);
        await Promise.race([reader, sleep(clock, 100)]);
        if (opts.channels.get(id) === channel) opts.channels.delete(id);
        // The cluster row goes only with the local claim: a stream that took
        // the id over on this gateway keeps it.
        if (streams.remove(handle))
          opts.clusterOwnership?.release(id).catch((err: unknown) => {
            log.warn({ err: (err as Error).message }, "worker id not released in the cluster");
          });
        opts.metrics?.streamClosed();
        const now = clock.now();
        if (abortReason !== undefined) {
          log.warn({ reason: abortReason }, "beam stream ended by the gateway");
        } else if (ended?.how === "exited") {
          fleet.exited(worker, now, ended.reason);
          log.info({ reason: ended.reason }, "beam harness disconnected");
        } else {
          const reason = ended?.reason ?? "status stream reset";
          fleet.connectionLost(worker, now, reason);
          log[ended?.how === "malformed" ? "warn" : "info"](
            { reason },
            "beam harness disconnected",
          );
        }
      }
      if (abortReason !== undefined) throw new ConnectError(abortReason, Code.Aborted);
      if (ended?.how === "malformed") {
        opts.metrics?.refusal("malformed");
        throw new ConnectError(ended.reason, Code.InvalidArgument);
      }
    },
  };
}

/** The fleet row for `id`: the existing Beam row (BeamStreams checked the kind), or a new one. */
function adopt(fleet: Fleet, id: string, peer: string): FleetWorker {
  const worker = fleet.enroll(id, "beam", peer);
  fleet.moveTo(worker, peer);
  return worker;
}
