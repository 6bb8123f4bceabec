import type {
  CommandOutcome,
  FinishedSession,
  ProfileResult,
  Session,
  StartProfile,
  ThreadDump,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import type { Logger } from "../../shared/logging/logger.js";

/**
 * What a worker can tell about itself and do on request: the seam between
 * the worker's session machinery (server/worker) and the channels that
 * report it (the Stallwatch agent, Beam status mode). Implementations must
 * answer quickly and never block on user code: a hung UDF is exactly when
 * these are needed.
 */
export interface WorkerStatusSource {
  /** Live sessions, as they are now. */
  sessions(): Session[];
  /** The newest `max` finished sessions, newest first. */
  finished(max: number): FinishedSession[];
  /** Every thread with its stack, including threads stuck in user code. */
  dumpThreads(): Promise<ThreadDump>;
  /**
   * Cancels a session: cooperative first, the thread terminated after
   * `graceMs`. Resolves once the session has ended (or was not found).
   */
  cancelSession(
    sessionId: string,
    reason: string,
    graceMs: number,
  ): Promise<{ outcome: CommandOutcome; message: string }>;
  /**
   * Samples stacks as `request` says (docs/profiles.md) and resolves with the
   * final result; `emit` sends interim ones. Absent when the worker cannot
   * sample. Never rejects: failures are the result's `error` or `partial`.
   */
  profile?(
    commandId: string,
    request: StartProfile,
    emit: (interim: ProfileResult) => void,
  ): Promise<ProfileResult>;
}

/** What every channel that reports a {@link WorkerStatusSource} takes (the agent, Beam mode). */
export interface StatusChannelOptions {
  source: WorkerStatusSource;
  log: Logger;
  /**
   * Longest an answer waits for the thread dump before it goes without one,
   * `error` saying so (default 1500, under the gateway's 2-3 s status
   * deadlines so the answer arrives while someone is waiting).
   */
  dumpDeadlineMs?: number;
}
