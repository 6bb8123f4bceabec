import { create } from "@bufbuild/protobuf";
import { createClient, type Transport } from "@connectrpc/connect";
import {
  BeamFnWorkerStatus,
  WorkerStatusResponseSchema,
  type WorkerStatusRequest,
  type WorkerStatusResponse,
} from "../../../gen/org/apache/beam/model/fn_execution/v1/beam_fn_api_pb.js";
import type { BackoffOptions } from "../dial-out/backoff.js";
import { RepeatQuietLog } from "../dial-out/repeat-quiet-log.js";
import { SendQueue } from "../dial-out/send-queue.js";
import { startStreamLink } from "../dial-out/stream-link.js";
import type { Logger } from "../../shared/logging/logger.js";
import type { HostPort } from "../../shared/net/host-port.js";
import type { WorkerStatusSource } from "../status/status-source.js";
import { BeamStatusBuilder } from "./beam-report.js";
import type { BeamSdkFormat } from "./sdk-formats.js";

/** Options of {@link startBeamStatusClient}. */
export interface BeamStatusClientOptions {
  /** The runner's `BeamFnWorkerStatus` endpoint (for Stallwatch, the gateway's `--grpc` address). */
  statusAddress: HostPort;
  /** Sent as the `worker_id` request header; the gateway keys the harness by it. */
  workerId: string;
  source: WorkerStatusSource;
  log: Logger;
  /** Reconnect pacing (default 250 ms → 10 s, ±20%). */
  backoff?: BackoffOptions;
  /** Longest an answer waits for the thread dump before going without it (default 1500). */
  dumpDeadlineMs?: number;
  /** Largest status text (default 1 MiB, what the gateway keeps per harness). */
  maxStatusBytes?: number;
  /** Which Beam SDK's status text to write (default python). */
  format?: BeamSdkFormat;
  /** Longest `stop()` takes (default 2000). */
  stopTimeoutMs?: number;
}

/** A running Beam-mode status client; see {@link startBeamStatusClient}. */
export interface BeamStatusClient {
  /** True while the runner is talking to us on an open stream. */
  readonly connected: boolean;
  /** Closes the stream and stops reconnecting; bounded, never rejects, idempotent. */
  stop(): Promise<void>;
}

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
  const builder = new BeamStatusBuilder(opts.source, {
    dumpDeadlineMs: opts.dumpDeadlineMs ?? 1500,
    maxStatusBytes: opts.maxStatusBytes ?? 1 << 20,
    format: opts.format ?? "python",
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

  async function run(transport: Transport, signal: AbortSignal, up: () => void): Promise<string> {
    const client = createClient(BeamFnWorkerStatus, transport);
    const queue = new SendQueue<WorkerStatusResponse>(MAX_QUEUED, () => true);
    const round = new AbortController();
    const endRound = () => round.abort();
    signal.addEventListener("abort", endRound, { once: true });
    const reply = (response: WorkerStatusResponse) => {
      if (queue.isClosed) {
        log.debug("answer for a closed status stream discarded");
        return;
      }
      if (queue.push(response))
        log.warn("runner not reading status answers: oldest queued answer dropped");
    };
    async function* responses(): AsyncGenerator<WorkerStatusResponse> {
      for (;;) {
        const batch = await queue.take(round.signal);
        if (batch === undefined) return;
        yield* batch;
      }
    }
    try {
      for await (const request of client.workerStatus(responses(), {
        signal: round.signal,
        headers: { worker_id: opts.workerId },
      })) {
        up();
        answer(request, reply);
      }
      return "the runner closed the status stream";
    } finally {
      signal.removeEventListener("abort", endRound);
      round.abort();
      queue.close();
    }
  }

  const link = startStreamLink({
    peer: "Beam status endpoint",
    address: opts.statusAddress,
    log,
    run,
    ...(opts.backoff ? { backoff: opts.backoff } : {}),
    ...(opts.stopTimeoutMs !== undefined ? { stopTimeoutMs: opts.stopTimeoutMs } : {}),
  });
  return {
    get connected() {
      return link.up;
    },
    stop: () => link.stop(),
  };
}
