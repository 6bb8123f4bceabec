import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import {
  WorkerStatusRequestSchema,
  type WorkerStatusRequest,
  type WorkerStatusResponse,
} from "../../../gen/org/apache/beam/model/fn_execution/v1/beam_fn_api_pb.js";
import type { ThreadDumpView } from "../../../gen/stallwatch/v1/fleet_pb.js";
import type { Clock, Timer } from "../../shared/clock/clock.js";
import type { Logger } from "../../shared/logging/logger.js";
import { BoundedQueue } from "../../shared/streams/bounded-queue.js";
import type { BeamMetrics } from "./beam-metrics.js";

/** What a harness answered, before parsing (parsed once, by the status collector). */
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

export interface BeamRequestsOptions {
  /** How long a harness may take to answer one status request. */
  statusDeadlineMs: number;
  /** Status text beyond this many bytes is cut (and flagged). */
  maxStatusBytes: number;
  clock: Clock;
  log: Logger;
  metrics?: BeamMetrics;
  /** Parses and stores one answer; returns the dump it made. */
  ingest(answer: BeamAnswer, trigger: string): ThreadDumpView | undefined;
}

interface Pending {
  id: string;
  sentAt: number;
  trigger: string;
  timer: Timer;
  done: Promise<ThreadDumpView | undefined>;
  resolve: (d: ThreadDumpView | undefined) => void;
}

/**
 * Status requests to one harness: one in flight at a time, each with a
 * deadline, each answer matched by id, size-capped and handed to `ingest`
 * once. Late or unknown answers are dropped: Beam's Python client loses the
 * first answer on a reopened stream, so a lost reply is tolerated, never
 * "fixed" by resetting the stream.
 */
export class BeamRequests implements BeamChannel {
  /** What the stream handler sends the harness. */
  readonly outbox: BoundedQueue<WorkerStatusRequest>;
  private pending: Pending | undefined;

  constructor(private readonly opts: BeamRequestsOptions) {
    this.outbox = new BoundedQueue<WorkerStatusRequest>(4, opts.clock);
  }

  requestStatus(trigger: string): Promise<ThreadDumpView | undefined> {
    if (this.pending) return this.pending.done;
    let resolve!: (d: ThreadDumpView | undefined) => void;
    const done = new Promise<ThreadDumpView | undefined>((r) => (resolve = r));
    const id = randomUUID();
    const { clock, statusDeadlineMs } = this.opts;
    const timer = clock.after(statusDeadlineMs, () => {
      this.opts.log.debug({ id }, `no status answer within ${statusDeadlineMs} ms`);
      this.settle(undefined);
    });
    this.pending = { id, sentAt: clock.monotonic(), trigger, timer, done, resolve };
    this.outbox.push(create(WorkerStatusRequestSchema, { id }));
    return done;
  }

  /** One response from the harness; returns the answer when it was the one awaited. */
  onResponse(response: WorkerStatusResponse): BeamAnswer | undefined {
    const pending = this.pending;
    if (!pending || response.id !== pending.id) {
      this.opts.log.debug(
        { id: response.id.slice(0, 100) },
        "late or unknown status answer ignored",
      );
      return undefined;
    }
    const { maxStatusBytes, clock } = this.opts;
    const bytes = Buffer.byteLength(response.statusInfo);
    const cutBytes = Math.max(0, bytes - maxStatusBytes);
    const text =
      cutBytes > 0
        ? Buffer.from(response.statusInfo).subarray(0, maxStatusBytes).toString()
        : response.statusInfo;
    if (cutBytes > 0) {
      this.opts.metrics?.cut("bytes");
      this.opts.log.warn({ bytes, cap: maxStatusBytes }, "status text over the cap, cut");
    }
    const answer: BeamAnswer = {
      receivedAtMs: clock.now(),
      rttMs: clock.monotonic() - pending.sentAt,
      text,
      cutBytes,
      error: response.error.slice(0, 10_000),
    };
    this.settle(this.opts.ingest(answer, pending.trigger));
    return answer;
  }

  /** The stream ended: whoever waits for an answer gets none. */
  close(): void {
    this.settle(undefined);
  }

  private settle(dump: ThreadDumpView | undefined): void {
    const pending = this.pending;
    if (!pending) return;
    pending.timer.cancel();
    this.pending = undefined;
    pending.resolve(dump);
  }
}
