import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { BeamFnWorkerStatus } from "../../../gen/org/apache/beam/model/fn_execution/v1/beam_fn_api_pb.js";
import type { ThreadDumpView } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { sleep, type Clock } from "../../shared/clock/clock.js";
import type { Logger } from "../../shared/logging/logger.js";
import { peerAddressKey } from "../../shared/net/peer-address.js";
import type { TrackedWorker } from "../fleet/tracked-worker.js";
import type { Fleet } from "../fleet/fleet.js";
import { WorkerOwnership, type ClusterOwnership } from "../fleet/ownership.js";
import { admitBeamStream } from "./beam-admission.js";
import { BeamRequests, type BeamAnswer, type BeamChannels } from "./beam-channel.js";
import type { BeamMetrics } from "./beam-metrics.js";
import { BeamStreams, type BeamStreamHandle, type BeamStreamLimits } from "./beam-streams.js";
import { readUntilEnd, type StreamEnd } from "./stream-end.js";
import { startPinger } from "./stream-pinger.js";
import { http2SessionKey } from "./stream-context.js";

export type { BeamAnswer, BeamChannel, BeamChannels } from "./beam-channel.js";

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
  /** Who speaks for each worker id; shared with the agent endpoint (default: this endpoint's own). */
  ownership?: WorkerOwnership;
  /** Cluster-wide claim on the worker id, asked before the stream is adopted (server/gateway/cluster). */
  clusterOwnership?: ClusterOwnership;
  /** Parses and stores one answer (once, on arrival); returns the dump it made. */
  ingest(worker: TrackedWorker, answer: BeamAnswer, trigger: string): ThreadDumpView | undefined;
  /** Records a fleet event about a harness (identity problems). */
  onEvent(workerId: string, summary: string): void;
  metrics?: BeamMetrics;
  log: Logger;
  clock: Clock;
}

/**
 * The runner side of Beam's `BeamFnWorkerStatus`. Every harness that dials in
 * becomes a `beam` worker once admitted (beam-admission.ts). Its liveness
 * comes from the stream: HTTP/2 PINGs with a deadline, and how the stream
 * ends (half-close: exited; reset or broken: gone). Thread dumps are asked
 * for on the status collector's budget (beam-channel.ts), and each answer is
 * parsed once, when it arrives.
 *
 * We never end a live harness's stream ourselves: Beam's Python client loses
 * the first answer on a reopened stream (shared/notes/measured-here.md), so a
 * late or lost reply is tolerated instead of "resetting" the stream.
 */
export function createBeamStatusService(
  fleet: Fleet,
  opts: BeamStatusOptions,
): ServiceImpl<typeof BeamFnWorkerStatus> {
  const clock = opts.clock;
  const streams = new BeamStreams(opts);
  const ownership = opts.ownership ?? new WorkerOwnership();
  const admission = { ...opts, fleet, streams, ownership };

  return {
    async *workerStatus(responses, context) {
      const peer = context.values.get(peerAddressKey);
      const session = context.values.get(http2SessionKey);
      const abort = new AbortController();
      let abortReason: string | undefined;
      const opened = {
        peer,
        session,
        openedAtMs: clock.now(),
        abort(reason: string) {
          abortReason = reason;
          abort.abort();
        },
      };
      const { id, holder } = await admitBeamStream(admission, context, opened);
      const handle: BeamStreamHandle = { ...opened, workerId: id };
      streams.add(handle);
      opts.metrics?.streamOpened();
      const worker = fleet.enroll(id, "beam", peer);
      fleet.moveTo(worker, peer);
      const log = opts.log.child({ worker: id, kind: "beam" });
      log.info({ address: peer }, "beam harness connected");

      const requests = new BeamRequests({
        ...opts,
        clock,
        log,
        ingest: (answer, trigger) => opts.ingest(worker, answer, trigger),
      });
      opts.channels.set(id, requests);
      let ended: StreamEnd | undefined;
      const reader = readUntilEnd(responses, context, clock, (response) => {
        const answer = requests.onResponse(response);
        // Without an HTTP/2 session to ping, an answer is the only sign of life.
        if (answer && !session) fleet.beatAnswered(worker, answer.receivedAtMs);
      }).then((end) => {
        ended = end;
        abort.abort();
      });
      const pingOpts = { intervalMs: opts.intervalMs, deadlineMs: opts.deadlineMs, clock };
      const stopPinger = startPinger(session, pingOpts, (result) => {
        const now = clock.now();
        if (result.ok) fleet.beatAnswered(worker, now, { rttMs: result.rttMs });
        else fleet.beatMissed(worker, now, result.reason);
      });
      const signal = AbortSignal.any([context.signal, abort.signal]);
      try {
        for (;;) {
          const batch = await requests.outbox.takeAll(signal, opts.intervalMs);
          if (batch === undefined) break;
          for (const request of batch) yield request;
        }
      } finally {
        stopPinger();
        requests.close();
        await Promise.race([reader, sleep(clock, 100)]);
        if (opts.channels.get(id) === requests) opts.channels.delete(id);
        streams.remove(handle);
        // The cluster row goes only with the local claim: a stream that took
        // the id over on this gateway keeps it.
        if (ownership.release(id, holder))
          opts.clusterOwnership?.release(id).catch((err: unknown) => {
            log.warn({ err: (err as Error).message }, "worker id not released in the cluster");
          });
        opts.metrics?.streamClosed();
        recordEnd(fleet, worker, log, clock.now(), abortReason, ended);
      }
      if (abortReason !== undefined) throw new ConnectError(abortReason, Code.Aborted);
      if (ended?.how === "malformed") {
        opts.metrics?.refusal("malformed");
        throw new ConnectError(ended.reason, Code.InvalidArgument);
      }
    },
  };
}

/** What the end of a stream says about the harness's liveness. */
function recordEnd(
  fleet: Fleet,
  worker: TrackedWorker,
  log: Logger,
  nowMs: number,
  abortReason: string | undefined,
  ended: StreamEnd | undefined,
): void {
  // Ended by the gateway (taken over): the stream that replaced it speaks now.
  if (abortReason !== undefined) {
    log.warn({ reason: abortReason }, "beam stream ended by the gateway");
    return;
  }
  if (ended?.how === "exited") {
    fleet.exited(worker, nowMs, ended.reason);
    log.info({ reason: ended.reason }, "beam harness disconnected");
    return;
  }
  const reason = ended?.reason ?? "status stream reset";
  fleet.connectionLost(worker, nowMs, reason);
  log[ended?.how === "malformed" ? "warn" : "info"]({ reason }, "beam harness disconnected");
}
