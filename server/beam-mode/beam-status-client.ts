import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  BeamFnWorkerStatus,
  WorkerStatusResponseSchema,
  type WorkerStatusRequest,
  type WorkerStatusResponse,
} from "../../gen/org/apache/beam/model/fn_execution/v1/beam_fn_api_pb.js";
import { Backoff, sleep } from "../agent-client/backoff.js";
import { formatBeamStatus } from "../beam-status/status-text.js";
import { BoundedQueue } from "../fleet/bounded-queue.js";
import type { Logger } from "../logging/logger.js";
import { formatHostPort, type HostPort } from "../net/host-port.js";
import type { WorkerStatusSource } from "../worker-status/status-source.js";
import { splitFrame } from "./frames.js";

export interface BeamStatusClientOptions {
  statusEndpoint: HostPort;
  workerId: string;
  source: WorkerStatusSource;
  log: Logger;
}

/**
 * Beam mode: the worker behaves like a Beam SDK harness and dials the
 * runner's BeamFnWorkerStatus endpoint, naming itself in the `worker_id`
 * header, keeping one stream open, and answering each request with text in
 * the Python SDK's format (sessions as bundles, then the thread dump). So the
 * gateway's Beam path runs against our own code too.
 */
export function startBeamStatusClient(opts: BeamStatusClientOptions): { stop(): Promise<void> } {
  const client = createClient(
    BeamFnWorkerStatus,
    createGrpcTransport({ baseUrl: `http://${formatHostPort(opts.statusEndpoint)}` }),
  );
  const stopping = new AbortController();
  const backoff = new Backoff();

  async function answer(request: WorkerStatusRequest): Promise<WorkerStatusResponse> {
    try {
      const now = Date.now();
      const dump = await opts.source.dumpThreads();
      const statusInfo = formatBeamStatus({
        bundles: opts.source.sessions().map((s) => ({
          instructionId: s.sessionId,
          descriptorId: s.udfName || s.udfFormat,
          trackedThread: s.threadId,
          timeSinceTransitionSec: Math.max(0, (now - Number(s.stateEnteredAtMs)) / 1000),
        })),
        threads: dump.threads.map((t) => ({
          ident: t.threadId,
          name: t.name,
          frames: t.frames.map(splitFrame),
        })),
      });
      return create(WorkerStatusResponseSchema, { id: request.id, statusInfo });
    } catch (err) {
      return create(WorkerStatusResponseSchema, { id: request.id, error: (err as Error).message });
    }
  }

  async function session(): Promise<void> {
    const outbox = new BoundedQueue<WorkerStatusResponse>(16);
    const round = new AbortController();
    const stopRound = () => round.abort();
    stopping.signal.addEventListener("abort", stopRound, { once: true });
    async function* responses(): AsyncGenerator<WorkerStatusResponse> {
      for (;;) {
        const batch = await outbox.takeAll(round.signal, 30_000);
        if (batch === undefined) return;
        yield* batch;
      }
    }
    try {
      for await (const request of client.workerStatus(responses(), {
        signal: round.signal,
        headers: { worker_id: opts.workerId },
      })) {
        backoff.reset();
        void answer(request).then((r) => outbox.push(r));
      }
    } finally {
      stopping.signal.removeEventListener("abort", stopRound);
      round.abort();
    }
  }

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        await session();
      } catch (err) {
        opts.log.debug(
          { reason: (err as Error).message },
          "status endpoint not reachable; retrying",
        );
      }
      await sleep(backoff.next(), stopping.signal);
    }
  })();

  return {
    async stop() {
      stopping.abort();
      await Promise.race([loop, new Promise((r) => setTimeout(r, 2000).unref())]);
    },
  };
}
