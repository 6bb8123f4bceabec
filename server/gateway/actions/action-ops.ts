import type { Action, ActionStatus } from "../../../gen/stallwatch/v1/control_pb.js";
import type { AgentChannels } from "../agent-endpoint/agent-options.js";
import type { Fleet } from "../fleet/fleet.js";
import type { ManageClient } from "../heartbeats/manage-client.js";
import type { Clock } from "../../shared/clock/clock.js";
import type { Logger } from "../../shared/logging/logger.js";

/** Manage clients of probed workers, for shutdowns (the heartbeat prober keeps them). */
export interface ManageClients {
  clientFor(workerId: string): Pick<ManageClient, "shutdown" | "heartbeat"> | undefined;
}

/** What the steps of an action need from the runner that owns it. */
export interface ActionOps {
  fleet: Fleet;
  prober: ManageClients;
  agents: AgentChannels;
  log: Logger;
  clock: Clock;
  defaultGraceMs: number;
  drainTimeoutMs: number;
  /**
   * How long a cancel-worker the worker acknowledged may leave it running
   * before its agent, if it can, ends the process (a session's thread stuck
   * in native code ignores every cancel, so the worker never exits by itself).
   */
  cancelKillAfterMs: number;
  /** Ends the action: action and audit committed together, then announced. */
  finish(action: Action, status: ActionStatus, outcome: string): Promise<void>;
  /** Shows progress to watchers; `durable` also commits it (action and audit). */
  update(
    action: Action,
    patch: Partial<Pick<Action, "outcome" | "sessionsRemaining" | "workerAcknowledged">>,
    durable?: boolean,
  ): Promise<void>;
}
