import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  BeamFnWorkerStatus,
  WorkerStatusRequestSchema,
  type WorkerStatusRequest,
  type WorkerStatusResponse,
} from "../../gen/org/apache/beam/model/fn_execution/v1/beam_fn_api_pb.js";
import type { Logger } from "../logging/logger.js";
import { peerAddressKey } from "../net/peer-address.js";
import { BoundedQueue } from "../fleet/bounded-queue.js";
import { createFleetWorker, fleetWorkerOptions, type FleetWorker } from "../fleet/fleet-worker.js";
import type { Fleet } from "../fleet/fleet.js";
import type { LivenessChange } from "../heartbeats/liveness.js";

export interface BeamStatusOptions {
  /** Time between status requests to one harness. */
  intervalMs: number;
  /** How long a harness may take to answer one request. */
  deadlineMs: number;
  unresponsiveAfter: number;
  retentionMs: number;
  /** Status text beyond this many bytes is cut (and flagged). */
  maxStatusBytes: number;
  /** Applied to status text before it is kept: dumps can hold secrets. */
  redact?: (text: string) => string;
  log: Logger;
  onLivenessChange?: (worker: FleetWorker, change: LivenessChange) => void;
}

/**
 * The runner side of Beam's `BeamFnWorkerStatus`: every harness that dials
 * in becomes a `beam` worker keyed by its `worker_id` header (else the peer
 * address), online while its stream is open. We ask for status every
 * interval, one request in flight, each with a deadline; the round trip is
 * the harness's latency and a missing answer counts as a missed beat.
 *
 * The stream is never ended by us while the harness lives: Beam's Python
 * client loses the first answer on a reopened stream (see
 * shared/notes/measured-here.md), so a late or lost reply is tolerated
 * instead of "resetting" the stream.
 */
export function createBeamStatusService(
  fleet: Fleet,
  opts: BeamStatusOptions,
): ServiceImpl<typeof BeamFnWorkerStatus> {
  return {
    async *workerStatus(responses, context) {
      const worker = register(fleet, opts, context);
      const log = opts.log.child({ worker: worker.id, kind: "beam" });
      log.info({ address: worker.address }, "beam harness connected");

      const outbox = new BoundedQueue<WorkerStatusRequest>(4);
      let pending: { id: string; sentAt: number; timer: NodeJS.Timeout } | undefined;
      let closedReason: string | undefined;
      const changed = (change: LivenessChange | undefined) => {
        fleet.changed(worker.id);
        if (change) {
          log[change.to === "healthy" ? "info" : "warn"](
            { from: change.from, to: change.to, reason: change.reason },
            "liveness changed",
          );
          opts.onLivenessChange?.(worker, change);
        }
      };

      const ask = () => {
        if (pending) return; // at most one request in flight
        const id = randomUUID();
        const timer = setTimeout(() => {
          pending = undefined;
          changed(
            worker.liveness.missed(Date.now(), `no status answer within ${opts.deadlineMs} ms`),
          );
        }, opts.deadlineMs);
        pending = { id, sentAt: performance.now(), timer };
        outbox.push(create(WorkerStatusRequestSchema, { id }));
      };

      const onResponse = (response: WorkerStatusResponse) => {
        if (!pending || response.id !== pending.id) {
          log.debug({ id: response.id }, "late or unknown status answer ignored");
          return;
        }
        clearTimeout(pending.timer);
        const rttMs = performance.now() - pending.sentAt;
        pending = undefined;
        const now = Date.now();
        worker.roundTrips.push(now, rttMs);
        const raw = response.statusInfo;
        const truncated = Buffer.byteLength(raw) > opts.maxStatusBytes;
        const kept = truncated ? Buffer.from(raw).subarray(0, opts.maxStatusBytes).toString() : raw;
        const redact = opts.redact ?? ((text: string) => text);
        worker.beamStatus = {
          receivedAtMs: now,
          raw: redact(kept),
          truncated,
          error: redact(response.error.slice(0, 10_000)),
        };
        if (truncated)
          log.warn(
            { bytes: Buffer.byteLength(raw), cap: opts.maxStatusBytes },
            "status text over the cap, cut",
          );
        changed(worker.liveness.answered(now));
      };

      const reader = (async () => {
        try {
          for await (const response of responses) onResponse(response);
          closedReason = "status stream closed by the harness";
        } catch (err) {
          closedReason = `status stream broke: ${(err as Error).message}`;
        }
      })();

      ask();
      const ticker = setInterval(ask, opts.intervalMs);
      try {
        for (;;) {
          const requests = await outbox.takeAll(context.signal, opts.intervalMs);
          if (requests === undefined || closedReason !== undefined) break;
          for (const request of requests) yield request;
        }
      } finally {
        clearInterval(ticker);
        if (pending) clearTimeout(pending.timer);
        await Promise.race([reader, new Promise((r) => setTimeout(r, 100))]);
        const reason = closedReason ?? "status stream closed";
        changed(worker.liveness.gone(Date.now(), reason));
        log.info({ reason }, "beam harness disconnected");
      }
    },
  };
}

function register(fleet: Fleet, opts: BeamStatusOptions, context: HandlerContext): FleetWorker {
  const peer = context.values.get(peerAddressKey);
  const header = context.requestHeader.get("worker_id")?.trim();
  // Untrusted: keep ids printable and short.
  const id = header && /^[\x21-\x7e]{1,200}$/.test(header) ? header : peer;
  const existing = fleet.get(id);
  if (existing?.kind === "beam") {
    existing.address = peer;
    return existing;
  }
  const worker = createFleetWorker(id, "beam", peer, fleetWorkerOptions(opts), Date.now());
  fleet.add(worker);
  return worker;
}
