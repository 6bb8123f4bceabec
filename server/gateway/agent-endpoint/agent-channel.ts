import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  CommandSchema,
  ConnectResponseSchema,
  StatusRequestSchema,
  type CancelSession,
  type Command,
  type CommandResult,
  type ConnectResponse,
  type KillWorker,
  type ProfileResult,
  type StartProfile,
  type StatusReport,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import type { Clock, Timer } from "../../shared/clock/clock.js";
import { BoundedQueue } from "../../shared/streams/bounded-queue.js";

interface Pending<T> {
  resolve: (value: T) => void;
  reject: (err: Error) => void;
  timer: Timer;
}

/**
 * The gateway's end of one agent stream: sends status requests and commands,
 * matches answers by id, and gives every call a deadline. At most one status
 * request is in flight; a caller asking while one is pending shares it.
 */
export class AgentChannel {
  readonly outbox: BoundedQueue<ConnectResponse>;
  /**
   * In-flight status requests, at most one per kind of question (threads or
   * not, how many finished sessions): a caller joins an identical request
   * instead of sending another, but never gets an answer to a different one.
   */
  private readonly statusInFlight = new Map<
    string,
    { promise: Promise<StatusReport>; id: string; includeThreads: boolean }
  >();
  private readonly pendingStatus = new Map<string, Pending<StatusReport>>();
  private readonly pendingCommands = new Map<string, Pending<CommandResult>>();
  private readonly pendingProfiles = new Map<string, Pending<ProfileResult>>();
  /** Where interim results of a profile in progress go, by command id. */
  private readonly interimListeners = new Map<string, (r: ProfileResult) => void>();
  private closedWith: Error | undefined;
  /** Aborted when the channel closes: ends the stream's send loop (eviction, shutdown). */
  private readonly ended = new AbortController();

  constructor(
    readonly workerId: string,
    private readonly clock: Clock,
  ) {
    this.outbox = new BoundedQueue<ConnectResponse>(64, clock);
  }

  /** Aborts once the channel is closed for any reason. */
  get endedSignal(): AbortSignal {
    return this.ended.signal;
  }

  /** Why the channel closed, once it has. */
  get closedReason(): string | undefined {
    return this.closedWith?.message;
  }

  /** Asks for sessions (and optionally threads); rejects after `deadlineMs`. */
  requestStatus(
    opts: { includeThreads: boolean; maxFinished: number },
    deadlineMs: number,
  ): Promise<StatusReport> {
    const key = `${opts.includeThreads}:${opts.maxFinished}`;
    const inFlight = this.statusInFlight.get(key);
    if (inFlight) return inFlight.promise;
    const id = randomUUID();
    const promise = this.await(this.pendingStatus, id, deadlineMs, "status report").finally(() => {
      if (this.statusInFlight.get(key)?.id === id) this.statusInFlight.delete(key);
    });
    this.statusInFlight.set(key, { promise, id, includeThreads: opts.includeThreads });
    this.send(
      create(ConnectResponseSchema, {
        message: {
          case: "statusRequest",
          value: create(StatusRequestSchema, { requestId: id, ...opts }),
        },
      }),
    );
    return promise;
  }

  /** Sends a cancel-session command; resolves with the worker's outcome. */
  cancelSession(cancel: CancelSession, deadlineMs: number): Promise<CommandResult> {
    const id = randomUUID();
    const promise = this.await(this.pendingCommands, id, deadlineMs, "command result");
    this.sendCommand(id, { case: "cancelSession", value: cancel });
    return promise;
  }

  /**
   * Asks the agent to end its worker process by signal (only agents that
   * announce "kill-worker"); resolves with the outcome, which says whether
   * the process ended and how.
   */
  killWorker(kill: KillWorker, deadlineMs: number): Promise<CommandResult> {
    const id = randomUUID();
    const promise = this.await(this.pendingCommands, id, deadlineMs, "command result");
    this.sendCommand(id, { case: "killWorker", value: kill });
    return promise;
  }

  /**
   * Sends a start-profile command; resolves with the worker's final
   * ProfileResult, passing interim ones to `onInterim` meanwhile. Rejects
   * after `deadlineMs` or when the stream closes (the caller keeps the last
   * interim result as a partial profile).
   */
  startProfile(
    start: StartProfile,
    deadlineMs: number,
    onInterim: (r: ProfileResult) => void,
  ): Promise<ProfileResult> {
    const id = randomUUID();
    this.interimListeners.set(id, onInterim);
    const promise = this.await(this.pendingProfiles, id, deadlineMs, "profile result").finally(() =>
      this.interimListeners.delete(id),
    );
    this.sendCommand(id, { case: "startProfile", value: start });
    return promise;
  }

  private sendCommand(commandId: string, kind: Command["kind"]): void {
    this.send(
      create(ConnectResponseSchema, {
        message: { case: "command", value: create(CommandSchema, { commandId, kind }) },
      }),
    );
  }

  /** True when a profile with this command id is waiting for its result. */
  awaitsProfile(commandId: string): boolean {
    return this.pendingProfiles.has(commandId);
  }

  /** Routes a profile result: interim to its listener, final to its waiter. */
  onProfileResult(result: ProfileResult): boolean {
    if (result.interim) {
      const listener = this.interimListeners.get(result.commandId);
      listener?.(result);
      return listener !== undefined;
    }
    return settle(this.pendingProfiles, result.commandId, result);
  }

  /** True when a status request with this id is waiting for its report. */
  awaitsStatus(requestId: string): boolean {
    return this.pendingStatus.has(requestId);
  }

  /** Whether the waiting status request `requestId` asked for threads (undefined: none waiting). */
  statusAskedThreads(requestId: string): boolean | undefined {
    for (const inFlight of this.statusInFlight.values())
      if (inFlight.id === requestId) return inFlight.includeThreads;
    return this.pendingStatus.has(requestId) ? false : undefined;
  }

  /** True when a command with this id is waiting for its result. */
  awaitsCommand(commandId: string): boolean {
    return this.pendingCommands.has(commandId);
  }

  /** Routes a report from the worker; false when nobody was waiting for it. */
  onStatus(report: StatusReport): boolean {
    return settle(this.pendingStatus, report.requestId, report);
  }

  onCommandResult(result: CommandResult): boolean {
    return settle(this.pendingCommands, result.commandId, result);
  }

  /** True once the stream ended or was replaced. */
  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Fails everything pending: the stream is gone. */
  close(reason: string): void {
    if (this.closedWith) return;
    this.closedWith = new ConnectError(`agent stream closed: ${reason}`, Code.Unavailable);
    this.ended.abort();
    for (const map of [this.pendingStatus, this.pendingCommands, this.pendingProfiles] as Map<
      string,
      Pending<unknown>
    >[]) {
      for (const [id, p] of map) {
        p.timer.cancel();
        p.reject(this.closedWith);
        map.delete(id);
      }
    }
  }

  private send(message: ConnectResponse): void {
    if (this.closedWith) return;
    this.outbox.push(message);
  }

  private await<T>(
    map: Map<string, Pending<T>>,
    id: string,
    deadlineMs: number,
    what: string,
  ): Promise<T> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise<T>((resolve, reject) => {
      const timer = this.clock.after(deadlineMs, () => {
        map.delete(id);
        reject(
          new ConnectError(
            `no ${what} from worker ${this.workerId} within ${deadlineMs} ms`,
            Code.DeadlineExceeded,
          ),
        );
      });
      map.set(id, { resolve, reject, timer });
    });
  }
}

function settle<T>(map: Map<string, Pending<T>>, id: string, value: T): boolean {
  const pending = map.get(id);
  if (!pending) return false;
  pending.timer.cancel();
  map.delete(id);
  pending.resolve(value);
  return true;
}
