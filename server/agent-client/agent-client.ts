import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  AgentService,
  CommandOutcome,
  CommandResultSchema,
  ConnectRequestSchema,
  StatusReportSchema,
  type Announce,
  type Command,
  type ConnectRequest,
  type StatusRequest,
} from "../../gen/stallwatch/v1/agent_pb.js";
import { BoundedQueue } from "../fleet/bounded-queue.js";
import type { Logger } from "../logging/logger.js";
import { formatHostPort, type HostPort } from "../net/host-port.js";
import type { WorkerStatusSource } from "../worker-status/status-source.js";
import { Backoff, sleep } from "./backoff.js";

export interface AgentClientOptions {
  gateway: HostPort;
  announce: Omit<Announce, "$typeName" | "$unknown">;
  source: WorkerStatusSource;
  log: Logger;
  /** Longest a thread dump may take before the report goes without it. */
  dumpDeadlineMs?: number;
}

export interface AgentClient {
  /** True while the stream to the gateway is open. */
  readonly connected: boolean;
  stop(): Promise<void>;
}

/**
 * The worker's side of the Stallwatch agent protocol: dials the gateway,
 * announces itself, answers status requests and carries out cancel commands,
 * each concurrently (a slow dump never delays a cancel). Reconnects with
 * jittered backoff for as long as the worker runs; never throws into the
 * worker.
 */
export function startAgentClient(opts: AgentClientOptions): AgentClient {
  const { log, source } = opts;
  const client = createClient(
    AgentService,
    createGrpcTransport({ baseUrl: `http://${formatHostPort(opts.gateway)}` }),
  );
  const stopping = new AbortController();
  const backoff = new Backoff();
  const dumpDeadlineMs = opts.dumpDeadlineMs ?? 2000;
  const link = { connected: false };

  async function answerStatus(request: StatusRequest): Promise<ConnectRequest> {
    const report = create(StatusReportSchema, {
      requestId: request.requestId,
      sessions: source.sessions(),
      finished: source.finished(Math.min(request.maxFinished, 100)),
    });
    if (request.includeThreads) {
      const dump = await Promise.race([
        source.dumpThreads(),
        new Promise<undefined>((r) => setTimeout(() => r(undefined), dumpDeadlineMs).unref()),
      ]).catch((err: unknown) => {
        report.error = `thread dump failed: ${(err as Error).message}`;
        return undefined;
      });
      if (dump) report.dump = dump;
      else report.error ||= `thread dump took longer than ${dumpDeadlineMs} ms`;
    }
    return create(ConnectRequestSchema, { message: { case: "status", value: report } });
  }

  async function carryOut(command: Command): Promise<ConnectRequest> {
    const started = Date.now();
    const result = create(CommandResultSchema, { commandId: command.commandId });
    if (command.kind.case === "cancelSession") {
      const c = command.kind.value;
      log.info(
        { session: c.sessionId, reason: c.reason, graceMs: c.graceMs },
        "cancel requested through the agent",
      );
      try {
        const outcome = await source.cancelSession(c.sessionId, c.reason, c.graceMs || 2000);
        result.outcome = outcome.outcome;
        result.message = outcome.message;
      } catch (err) {
        result.outcome = CommandOutcome.FAILED;
        result.message = (err as Error).message;
      }
    } else {
      result.outcome = CommandOutcome.FAILED;
      result.message = "unknown command";
    }
    result.tookMs = BigInt(Date.now() - started);
    return create(ConnectRequestSchema, { message: { case: "commandResult", value: result } });
  }

  async function session(): Promise<void> {
    const outbox = new BoundedQueue<ConnectRequest>(64);
    const round = new AbortController();
    const stopRound = () => round.abort();
    stopping.signal.addEventListener("abort", stopRound, { once: true });
    async function* requests(): AsyncGenerator<ConnectRequest> {
      yield create(ConnectRequestSchema, { message: { case: "announce", value: opts.announce } });
      for (;;) {
        const batch = await outbox.takeAll(round.signal, 30_000);
        if (batch === undefined) return;
        yield* batch;
      }
    }
    try {
      for await (const message of client.connect(requests(), { signal: round.signal })) {
        if (!link.connected) {
          link.connected = true;
          backoff.reset();
          log.info({ gateway: formatHostPort(opts.gateway) }, "agent connected to the gateway");
        }
        const work =
          message.message.case === "statusRequest"
            ? answerStatus(message.message.value)
            : message.message.case === "command"
              ? carryOut(message.message.value)
              : undefined;
        void work?.then((reply) => outbox.push(reply));
      }
    } finally {
      stopping.signal.removeEventListener("abort", stopRound);
      round.abort();
    }
  }

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      let reason = "stream ended";
      try {
        await session();
      } catch (err) {
        reason = (err as Error).message;
      }
      if (link.connected) log.warn({ reason }, "agent disconnected from the gateway; reconnecting");
      else log.debug({ reason }, "gateway not reachable; retrying");
      link.connected = false;
      await sleep(backoff.next(), stopping.signal);
    }
  })();

  return {
    get connected() {
      return link.connected;
    },
    async stop() {
      stopping.abort();
      await Promise.race([loop, new Promise((r) => setTimeout(r, 2000).unref())]);
    },
  };
}
