import { create } from "@bufbuild/protobuf";
import { createClient, type Transport } from "@connectrpc/connect";
import {
  BeamFnWorkerStatus,
  WorkerStatusResponseSchema,
  type WorkerStatusRequest,
  type WorkerStatusResponse,
} from "../../../gen/org/apache/beam/model/fn_execution/v1/beam_fn_api_pb.js";
import { RepeatQuietLog } from "../dial-out/repeat-quiet-log.js";
import { runAnswerStream } from "../dial-out/answer-stream.js";
import { startStreamLink, type DialOutOptions, type StreamLink } from "../dial-out/stream-link.js";
import type { HostPort } from "../../shared/net/host-port.js";
import type { StatusChannelOptions } from "../status-report/status-source.js";
import { BeamStatusBuilder } from "./beam-report.js";
import type { BeamSdkFormat } from "./sdk-formats.js";

/** Options of {@link startBeamStatusClient}. */
export interface BeamStatusClientOptions extends DialOutOptions, StatusChannelOptions {
  /** The runner's `BeamFnWorkerStatus` endpoint (for Stallwatch, the gateway's `--grpc` address). */
  statusAddress: HostPort;
  /** Sent as the `worker_id` request header; the gateway keys the harness by it. */
  workerId: string;
  /** Largest status text (default 1 MiB, what the gateway keeps per harness). */
  maxStatusBytes?: number;
  /** Which Beam SDK's status text to write (default python). */
  format?: BeamSdkFormat;
}

/** A running Beam-mode status client: `connected` while the peer talks to us on an open stream. */
export type BeamStatusClient = StreamLink;

/** Answers queued at most (the gateway keeps one request in flight). */
const MAX_QUEUED = 16;
/** Requests answered at once; beyond this the runner gets an `error` answer at once. */
const MAX_CONCURRENT = 8;

/**
 * Beam mode: the worker behaves like a Beam SDK harness. It dials
 * `org.apache.beam.model.fn_execution.v1.BeamFnWorkerStatus/WorkerStatus`,
 * names itself in the `worker_id` request header, and keeps ONE stream open
 * for its whole life: it never ends the stream itself (runners pair a harness
 * with its stream; see shared/notes/measured-here.md), and opens another only
 * when the runner ends it or the connection dies, after a jittered exponential
 * backoff, forever until `stop()`. Each `WorkerStatusRequest{id}` is answered
 * with `WorkerStatusResponse{id, status_info}` in the chosen SDK's text
 * format (see {@link BeamStatusBuilder}), plus `error` naming any part that
 * could not be had, or `{id, error}` alone when no status could be had.
 * Answers are built concurrently and leave through a bounded queue. Each
 * connect and disconnect is logged with its reason. Never throws into the
 * caller; `stop()` is bounded.
 */
export function startBeamStatusClient(opts: BeamStatusClientOptions): BeamStatusClient {
  const { log } = opts;
  const clock = opts.clock;
  const builder = new BeamStatusBuilder(opts.source, {
    dumpDeadlineMs: opts.dumpDeadlineMs ?? 1500,
    maxStatusBytes: opts.maxStatusBytes ?? 1 << 20,
    format: opts.format ?? "python",
    clock,
  });
  if (!/^[\x21-\x7e]{1,200}$/.test(opts.workerId)) {
    log.error(
      { workerId: opts.workerId },
      "worker id is not 1-200 printable ASCII characters; the gateway will not key the harness by it",
    );
  }
  let busy = 0;
  const partial = new RepeatQuietLog(log, "partial Beam status answer");

  function answer(request: WorkerStatusRequest, reply: (r: WorkerStatusResponse) => void): void {
    if (busy >= MAX_CONCURRENT) {
      reply(
        create(WorkerStatusResponseSchema, {
          id: request.id,
          error: `harness busy: ${MAX_CONCURRENT} status requests already in flight`,
        }),
      );
      return;
    }
    busy += 1;
    void builder
      .build()
      .then(
        ({ statusInfo, error }) => {
          partial.note(error, { id: request.id });
          reply(create(WorkerStatusResponseSchema, { id: request.id, statusInfo, error }));
        },
        (err: unknown) => {
          // build() catches everything; this only guards against a bug.
          log.error({ err }, "Beam status builder failed");
          reply(create(WorkerStatusResponseSchema, { id: request.id, error: String(err) }));
        },
      )
      .finally(() => (busy -= 1));
  }

  function run(transport: Transport, signal: AbortSignal, up: () => void): Promise<string> {
    const client = createClient(BeamFnWorkerStatus, transport);
    return runAnswerStream<WorkerStatusRequest, WorkerStatusResponse>({
      signal,
      open: (outgoing, round) =>
        client.workerStatus(outgoing, { signal: round, headers: { worker_id: opts.workerId } }),
      maxQueued: MAX_QUEUED,
      droppable: () => true,
      onMessage: answer,
      up,
      onDropped(_answer, why) {
        if (why === "stream-ended") log.debug("answer for a closed status stream discarded");
        else log.warn("runner not reading status answers: oldest queued answer dropped");
      },
      endedByPeer: "the runner closed the status stream",
    });
  }

  return startStreamLink({
    ...opts,
    clock,
    peer: "Beam status endpoint",
    address: opts.statusAddress,
    run,
  });
}
