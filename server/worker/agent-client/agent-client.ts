import { create } from "@bufbuild/protobuf";
import { createClient, type Transport } from "@connectrpc/connect";
import {
  AgentService,
  AnnounceSchema,
  CommandOutcome,
  CommandResultSchema,
  ConnectRequestSchema,
  StatusReportSchema,
  type Command,
  type ConnectRequest,
  type ConnectResponse,
  type StatusRequest,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import type { Logger } from "../../shared/logging/logger.js";
import type { HostPort } from "../../shared/net/host-port.js";
import type { WorkerStatusSource } from "../status/status-source.js";
import type { BackoffOptions } from "../dial-out/backoff.js";
import { runCommand } from "./command-runner.js";
import { RepeatQuietLog } from "../dial-out/repeat-quiet-log.js";
import { SendQueue } from "../dial-out/send-queue.js";
import { StatusReporter } from "./status-report.js";
import { startStreamLink } from "../dial-out/stream-link.js";

/** Who the worker is, sent as the `Announce` that opens every connection. */
export interface AgentAnnounce {
  /** 1-128 letters, digits or `. _ : @ -` (the gateway refuses anything else). */
  workerId: string;
  /** host:port of the worker's `UdfWorker.Manage` endpoint; empty or absent when it has none. */
  manageAddress?: string;
  pid: number;
  host: string;
  /** e.g. "node v20.20.2". */
  runtime: string;
  version: string;
  startedAtMs: number | bigint;
  /** e.g. "sessions", "thread-dump", "cancel-session". */
  capabilities: string[];
}

/** Options of {@link startAgentClient}. */
export interface AgentClientOptions {
  /** The gateway's worker-facing `--grpc` address. */
  gatewayAddress: HostPort;
  announce: AgentAnnounce;
  source: WorkerStatusSource;
  log: Logger;
  /** Reconnect pacing (default 250 ms → 10 s, ±20%). */
  backoff?: BackoffOptions;
  /**
   * Longest a status report waits for the thread dump before it is sent
   * without one, `error` saying so (default 1500, under the gateway's 2-3 s
   * status deadlines so the answer arrives while someone is waiting).
   */
  dumpDeadlineMs?: number;
  /** Grace for a cancel that names none (default 2000). */
  defaultGraceMs?: number;
  /** Largest encoded status report; bigger ones are cut (default 3 MiB, under the gateway's 4 MiB). */
  maxReportBytes?: number;
  /** Longest `stop()` takes (default 2000). */
  stopTimeoutMs?: number;
  /** The fleet agent token the gateway requires (sent as `authorization: Bearer …`). */
  agentToken?: string;
}

/** A running agent; see {@link startAgentClient}. */
export interface AgentClient {
  /** True while the gateway is talking to us on an open stream. */
  readonly connected: boolean;
  /** Closes the stream and stops reconnecting; bounded, never rejects, idempotent. */
  stop(): Promise<void>;
}

/** What the gateway accepts as Announce.worker_id (agent-service.ts). */
const WORKER_ID = /^[\w.:@-]{1,128}$/;
/** Messages queued for the gateway at most; see SendQueue for what goes when full. */
const MAX_QUEUED = 64;
/** Requests handled at once; beyond this the gateway is answered "busy" at once. */
const MAX_CONCURRENT = 32;
/** Cancels get this long past their grace before we answer FAILED. */
const OVER_GRACE_MS = 8_000;

/**
 * The worker's side of the Stallwatch agent protocol
 * (`stallwatch.v1.AgentService/Connect`, gRPC over h2c).
 *
 * Contract:
 * - Each connection writes `Announce` first, then answers every
 *   `StatusRequest` with a `StatusReport` carrying the same request_id:
 *   `source.sessions()`, `source.finished(max_finished)` (at most 100) and,
 *   when include_threads, `source.dumpThreads()` under its own deadline.
 *   Whatever part fails or is late is left out and named in `error`.
 * - `Command.cancel_session` runs `source.cancelSession` and is answered with
 *   a `CommandResult` (command_id, outcome, message, took_ms).
 * - Requests are handled concurrently: a dump in progress never delays a
 *   cancel or the answer to a later request.
 * - Outgoing messages go through a bounded queue; when the gateway stops
 *   reading, status reports are dropped before command results.
 * - When the gateway is down or restarts, it reconnects with jittered
 *   exponential backoff, forever until `stop()`; every connect and
 *   disconnect is logged with its reason.
 * - Never throws into the caller, synchronously or later; `stop()` is bounded.
 */
export function startAgentClient(opts: AgentClientOptions): AgentClient {
  const { log, source } = opts;
  const announce = create(ConnectRequestSchema, {
    message: {
      case: "announce",
      value: create(AnnounceSchema, {
        ...opts.announce,
        manageAddress: opts.announce.manageAddress ?? "",
        startedAtMs: BigInt(opts.announce.startedAtMs),
      }),
    },
  });
  const reporter = new StatusReporter(source, {
    dumpDeadlineMs: opts.dumpDeadlineMs ?? 1500,
    maxReportBytes: opts.maxReportBytes ?? 3 << 20,
  });
  const commandOptions = {
    defaultGraceMs: opts.defaultGraceMs ?? 2000,
    overGraceMs: OVER_GRACE_MS,
  };
  let busy = 0;
  const partial = new RepeatQuietLog(log, "partial status report");
  if (!WORKER_ID.test(opts.announce.workerId)) {
    log.error(
      { workerId: opts.announce.workerId },
      "worker id is not 1-128 letters, digits or . _ : @ -; the gateway will refuse it",
    );
  }

  /** Starts the answer to one gateway message; `reply` queues it when ready. */
  function handle(message: ConnectResponse, reply: (out: ConnectRequest) => void): void {
    const branch = message.message;
    if (branch.case === undefined) {
      log.debug("message from the gateway with no branch ignored (newer gateway?)");
      return;
    }
    if (busy >= MAX_CONCURRENT) {
      reply(busyAnswer(branch));
      log.warn({ inFlight: busy }, "gateway request refused: too many in flight");
      return;
    }
    busy += 1;
    const answer =
      branch.case === "statusRequest" ? answerStatus(branch.value) : answerCommand(branch.value);
    void answer
      .then(reply, (err: unknown) => {
        // Both answer paths catch everything; this only guards against a bug.
        log.error({ err }, "agent request handler failed");
      })
      .finally(() => (busy -= 1));
  }

  async function answerStatus(request: StatusRequest): Promise<ConnectRequest> {
    const report = await reporter.report(request);
    partial.note(report.error, { requestId: request.requestId });
    return create(ConnectRequestSchema, { message: { case: "status", value: report } });
  }

  async function answerCommand(command: Command): Promise<ConnectRequest> {
    if (command.kind.case === "cancelSession") {
      const c = command.kind.value;
      log.info(
        {
          commandId: command.commandId,
          session: c.sessionId,
          reason: c.reason,
          graceMs: c.graceMs,
        },
        "cancel requested through the agent",
      );
    }
    const result = await runCommand(source, command, commandOptions);
    log.info(
      {
        commandId: result.commandId,
        outcome: CommandOutcome[result.outcome],
        message: result.message,
        tookMs: Number(result.tookMs),
      },
      "agent command done",
    );
    return create(ConnectRequestSchema, { message: { case: "commandResult", value: result } });
  }

  async function run(transport: Transport, signal: AbortSignal, up: () => void): Promise<string> {
    const client = createClient(AgentService, transport);
    const queue = new SendQueue<ConnectRequest>(MAX_QUEUED, (m) => m.message.case === "status");
    // Ends this connection's request stream whether the gateway or stop() ends it.
    const round = new AbortController();
    const endRound = () => round.abort();
    signal.addEventListener("abort", endRound, { once: true });
    const reply = (out: ConnectRequest) => {
      if (queue.isClosed) {
        // Answered after its stream ended; the gateway failed that request already.
        log.debug({ answer: out.message.case }, "answer for a closed agent stream discarded");
        return;
      }
      const dropped = queue.push(out);
      if (dropped)
        log.warn(
          { dropped: dropped.message.case, queued: queue.size },
          "gateway not reading: oldest queued answer dropped",
        );
    };
    async function* requests(): AsyncGenerator<ConnectRequest> {
      yield announce;
      for (;;) {
        const batch = await queue.take(round.signal);
        if (batch === undefined) return;
        yield* batch;
      }
    }
    try {
      const headers: Record<string, string> = opts.agentToken
        ? { authorization: `Bearer ${opts.agentToken}` }
        : {};
      for await (const message of client.connect(requests(), { signal: round.signal, headers })) {
        up();
        handle(message, reply);
      }
      return "the gateway closed the stream";
    } finally {
      signal.removeEventListener("abort", endRound);
      round.abort();
      queue.close();
    }
  }

  const link = startStreamLink({
    peer: "gateway agent endpoint",
    address: opts.gatewayAddress,
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

/** The immediate answer when too many requests are in flight. */
function busyAnswer(
  branch: Exclude<ConnectResponse["message"], { case: undefined }>,
): ConnectRequest {
  const why = `worker busy: ${MAX_CONCURRENT} gateway requests already in flight`;
  return branch.case === "statusRequest"
    ? create(ConnectRequestSchema, {
        message: {
          case: "status",
          value: create(StatusReportSchema, { requestId: branch.value.requestId, error: why }),
        },
      })
    : create(ConnectRequestSchema, {
        message: {
          case: "commandResult",
          value: create(CommandResultSchema, {
            commandId: branch.value.commandId,
            outcome: CommandOutcome.FAILED,
            message: why,
          }),
        },
      });
}
