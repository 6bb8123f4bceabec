import { create } from "@bufbuild/protobuf";
import {
  CommandOutcome,
  CommandResultSchema,
  type Command,
  type CommandResult,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import type { WorkerStatusSource } from "../status-report/status-source.js";
import { withTimeout, type Clock } from "../../shared/clock/clock.js";

export interface CommandRunnerOptions {
  /** Grace used when a cancel says 0 (proto3 cannot tell "unset" from 0). */
  defaultGraceMs: number;
  /**
   * How long past its grace a cancel may take before we answer FAILED. Kept
   * below the gateway's own wait (grace + 10 s) so the operator hears from
   * the worker rather than from a deadline.
   */
  overGraceMs: number;
  /** Time for that deadline (default: real). */
  clock: Clock;
}

/**
 * Carries out one gateway `Command` on the source and says how it went.
 * Never rejects: a throwing source, an unknown command or one that outlives
 * its deadline all become `COMMAND_OUTCOME_FAILED` with a message.
 */
export async function runCommand(
  source: WorkerStatusSource,
  command: Command,
  opts: CommandRunnerOptions,
): Promise<CommandResult> {
  const started = performance.now();
  const result = create(CommandResultSchema, { commandId: command.commandId });
  const { outcome, message } = await carryOut(source, command, opts).catch((err: unknown) => ({
    outcome: CommandOutcome.FAILED,
    message: err instanceof Error ? err.message : String(err),
  }));
  result.outcome = outcome;
  result.message = message.slice(0, 10_000);
  result.tookMs = BigInt(Math.max(0, Math.round(performance.now() - started)));
  return result;
}

async function carryOut(
  source: WorkerStatusSource,
  command: Command,
  opts: CommandRunnerOptions,
): Promise<{ outcome: CommandOutcome; message: string }> {
  switch (command.kind.case) {
    case "cancelSession": {
      const { sessionId, reason, graceMs } = command.kind.value;
      if (sessionId === "")
        return { outcome: CommandOutcome.FAILED, message: "cancel_session needs a session_id" };
      const grace = graceMs || opts.defaultGraceMs;
      const limitMs = grace + opts.overGraceMs;
      // The call is started inside the async chain so a synchronous throw
      // becomes a rejection (caught by runCommand) rather than escaping.
      const done = await withTimeout(
        (async () => source.cancelSession(sessionId, reason, grace))(),
        limitMs,
        opts.clock,
      );
      return (
        done ?? {
          outcome: CommandOutcome.FAILED,
          message: `the cancel did not finish within ${limitMs} ms (grace ${grace} ms)`,
        }
      );
    }
    case "startProfile":
      // Profiles are answered with a ProfileResult by the agent client's
      // profiler, never through this runner.
      return {
        outcome: CommandOutcome.FAILED,
        message: "start_profile is answered with a ProfileResult, not a CommandResult",
      };
    case "killWorker":
      // Never sent to this worker (it does not announce "kill-worker"): its
      // Manage shutdown runs on the main thread, which user code never holds.
      return {
        outcome: CommandOutcome.FAILED,
        message: "unsupported command kill_worker: this worker understands cancel_session",
      };
    case undefined:
      return {
        outcome: CommandOutcome.FAILED,
        message: "unsupported command: this worker understands cancel_session",
      };
  }
}
