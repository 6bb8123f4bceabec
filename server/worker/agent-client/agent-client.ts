import { create } from "@bufbuild/protobuf";
import { createClient, type Transport } from "@connectrpc/connect";
import {
  AgentService,
  CommandOutcome,
  CommandResultSchema,
  ConnectRequestSchema,
  StatusReportSchema,
  type Command,
  type ConnectRequest,
  type ConnectResponse,
  type StatusRequest,
  ProfileMode,
  ProfileResultSchema,
  type ProfileResult,
  type StartProfile,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import type { HostPort } from "../../shared/net/host-port.js";
import type { StatusChannelOptions } from "../status-report/status-source.js";
import { announceRequest, isAcceptedWorkerId, type AgentAnnounce } from "./announce.js";
import { runCommand } from "./command-runner.js";
import { RepeatQuietLog } from "../dial-out/repeat-quiet-log.js";
import { runAnswerStream } from "../dial-out/answer-stream.js";
import { StatusReporter } from "./status-report.js";
import { startStreamLink, type DialOutOptions, type StreamLink } from "../dial-out/stream-link.js";

/** Options of {@link startAgentClient}. */
export interface AgentClientOptions extends DialOutOptions, StatusChannelOptions {
  /** The gateway's worker-facing `--grpc` address. */
  gatewayAddress: HostPort;
  announce: AgentAnnounce;
  /** Grace for a cancel that names none (default 2000). */
  defaultGraceMs?: number;
  /** Largest encoded status report; bigger ones are cut (default 3 MiB, under the gateway's 4 MiB). */
  maxReportBytes?: number;
  /** The fleet agent token the gateway requires (sent as `authorization: Bearer …`). */
  agentToken?: string;
}

/** A running agent: `connected` while the peer talks to us on an open stream. */
export type AgentClient = StreamLink;

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
  const clock = opts.clock;
  const announce = announceRequest(opts.announce);
  const reporter = new StatusReporter(source, {
    dumpDeadlineMs: opts.dumpDeadlineMs ?? 1500,
    maxReportBytes: opts.maxReportBytes ?? 3 << 20,
    clock,
  });
  const commandOptions = {
    defaultGraceMs: opts.defaultGraceMs ?? 2000,
    overGraceMs: OVER_GRACE_MS,
    clock,
  };
  let busy = 0;
  const partial = new RepeatQuietLog(log, "partial status report");
  if (!isAcceptedWorkerId(opts.announce.workerId)) {
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
      branch.case === "statusRequest"
        ? answerStatus(branch.value)
        : branch.value.kind.case === "startProfile"
          ? answerProfile(branch.value.commandId, branch.value.kind.value, reply)
          : answerCommand(branch.value);
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

  async function answerProfile(
    commandId: string,
    request: StartProfile,
    reply: (out: ConnectRequest) => void,
  ): Promise<ConnectRequest> {
    const wrap = (value: ProfileResult) =>
      create(ConnectRequestSchema, { message: { case: "profileResult", value } });
    log.info(
      { commandId, mode: ProfileMode[request.mode], durationMs: request.durationMs },
      "profile requested through the agent",
    );
    const result = source.profile
      ? await source
          .profile(commandId, request, (interim) => reply(wrap(interim)))
          .catch((err: unknown) =>
            create(ProfileResultSchema, { commandId, error: `profile failed: ${String(err)}` }),
          )
      : create(ProfileResultSchema, { commandId, error: "this worker cannot sample its stacks" });
    log.info(
      { commandId, error: result.error || undefined, partial: result.partialReason || undefined },
      "profile done",
    );
    return wrap(result);
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

  function run(transport: Transport, signal: AbortSignal, up: () => void): Promise<string> {
    const client = createClient(AgentService, transport);
    const headers: Record<string, string> = opts.agentToken
      ? { authorization: `Bearer ${opts.agentToken}` }
      : {};
    return runAnswerStream<ConnectResponse, ConnectRequest>({
      signal,
      open: (outgoing, round) => client.connect(outgoing, { signal: round, headers }),
      first: announce,
      maxQueued: MAX_QUEUED,
      droppable: (m) => m.message.case === "status",
      onMessage: handle,
      up,
      onDropped(answer, why, queued) {
        if (why === "stream-ended")
          log.debug({ answer: answer.message.case }, "answer for a closed agent stream discarded");
        else
          log.warn(
            { dropped: answer.message.case, queued },
            "gateway not reading: oldest queued answer dropped",
          );
      },
      endedByPeer: "the gateway closed the stream",
    });
  }

  return startStreamLink({
    ...opts,
    clock,
    peer: "gateway agent endpoint",
    address: opts.gatewayAddress,
    run,
  });
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
    : branch.value.kind.case === "startProfile"
      ? create(ConnectRequestSchema, {
          message: {
            case: "profileResult",
            value: create(ProfileResultSchema, { commandId: branch.value.commandId, error: why }),
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
