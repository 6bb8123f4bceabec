import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  ProfileMode,
  StartProfileSchema,
  type ProfileResult,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import { ActionStatus, type Action } from "../../../gen/stallwatch/v1/control_pb.js";
import {
  ProfileSchema,
  ProfileSource,
  type Profile,
} from "../../../gen/stallwatch/v1/profile_pb.js";
import type { AgentChannels } from "../agent-endpoint/agent-options.js";
import type { ProfileExecutor } from "../actions/action-runner.js";
import type { BeamChannels } from "../beam-endpoint/beam-status-service.js";
import type { FleetReader } from "../fleet/fleet-reader.js";
import type { StatusCollector } from "../status-intake/status-collector.js";
import type { Clock } from "../../shared/clock/clock.js";
import type { Logger } from "../../shared/logging/logger.js";
import { profileFromDumps } from "./dump-profile.js";
import { ProfileBook } from "./profile-book.js";
import { chooseSource, type SourceChoice } from "./profile-sources.js";

/** What one StartProfile asked for, after defaults. */
export interface ProfileSpec {
  profileId: string;
  workerId: string;
  sessionId: string;
  threadId: string;
  mode: ProfileMode;
  durationMs: number;
}

export interface ProfileRunnerDeps {
  fleet: FleetReader;
  agents: AgentChannels;
  beams: BeamChannels;
  collector: Pick<StatusCollector, "collectNow">;
  clock: Clock;
  log: Logger;
  /** A dumps-source profile takes one dump this often (the live view's cadence). */
  dumpEveryMs: number;
  /** Profiles started per minute, fleet-wide. */
  perMinute: number;
}

/** How long past its duration an agent's final result may take. */
const RESULT_GRACE_MS = 15_000;

/**
 * Runs profiles: refuses what must not start (before anything is recorded),
 * then, as the action runner's {@link ProfileExecutor}, samples from the
 * worker's best source and ends the action with the outcome. One profile per
 * worker at a time; at most `perMinute` started fleet-wide.
 */
export class ProfileRunner implements ProfileExecutor {
  readonly book = new ProfileBook();
  private readonly admitted = new Map<string, ProfileSpec & { choice: SourceChoice }>();
  private readonly reserved = new Map<string, string>();
  private startTimes: number[] = [];

  constructor(private readonly deps: ProfileRunnerDeps) {}

  /** Throws the precise refusal, or reserves the worker for `spec`. */
  admit(spec: ProfileSpec): void {
    const worker = this.deps.fleet.get(spec.workerId);
    if (!worker)
      throw new ConnectError(
        `no worker "${spec.workerId.slice(0, 200)}" in the fleet`,
        Code.NotFound,
      );
    const state = worker.liveness.current.state;
    if (state === "gone" || state === "exited")
      throw new ConnectError(
        `worker ${worker.id} is ${state} (${worker.liveness.current.reason}); there is nothing to profile`,
        Code.FailedPrecondition,
      );
    const busy = this.reserved.get(worker.id);
    if (busy)
      throw new ConnectError(
        `a profile (${busy}) is already running on worker ${worker.id}; one at a time per worker`,
        Code.FailedPrecondition,
      );
    const choice = chooseSource(worker, {
      agent: this.deps.agents.has(worker.id),
      beam: this.deps.beams.has(worker.id),
    });
    if (choice.source === ProfileSource.NONE)
      throw new ConnectError(choice.why, Code.FailedPrecondition);
    const now = this.deps.clock.monotonic();
    this.startTimes = this.startTimes.filter((t) => now - t < 60_000);
    if (this.startTimes.length >= this.deps.perMinute)
      throw new ConnectError(
        `${this.deps.perMinute} profiles were started fleet-wide in the last minute, the most allowed (profiles cost the workers CPU); try again shortly`,
        Code.ResourceExhausted,
      );
    this.startTimes.push(now);
    this.reserved.set(worker.id, spec.profileId);
    this.admitted.set(spec.profileId, { ...spec, choice });
  }

  /** Releases an admitted profile that was not started (its action was refused). */
  forget(profileId: string): void {
    const spec = this.admitted.get(profileId);
    if (!spec) return;
    this.admitted.delete(profileId);
    if (this.reserved.get(spec.workerId) === profileId) this.reserved.delete(spec.workerId);
  }

  async run(
    action: Action,
    finish: (status: ActionStatus, outcome: string) => Promise<void>,
  ): Promise<void> {
    const spec = this.admitted.get(action.actionId);
    this.admitted.delete(action.actionId);
    if (!spec) {
      await finish(ActionStatus.FAILED, "failed: the profile was not admitted");
      return;
    }
    const profile = create(ProfileSchema, {
      profileId: spec.profileId,
      workerId: spec.workerId,
      sessionId: spec.sessionId,
      threadId: spec.threadId,
      mode: spec.mode,
      durationMs: spec.durationMs,
      actor: action.actor,
      reason: action.reason,
      status: ActionStatus.RUNNING,
      startedAtMs: action.startedAtMs,
      source: spec.choice.source,
      auditId: action.auditId,
    });
    this.book.started(profile);
    let interim: ProfileResult | undefined;
    const progress = (r: ProfileResult) => {
      interim = r;
      profile.sourceLabel = r.sampler;
      this.book.changed(profile);
    };
    let outcome: { status: ActionStatus; text: string };
    try {
      const result = await this.sample(spec, progress);
      profile.sourceLabel = result.sampler;
      if (result.error) {
        profile.error = result.error;
        outcome = { status: ActionStatus.FAILED, text: `failed: ${result.error}` };
      } else {
        profile.result = result;
        outcome = {
          status: ActionStatus.SUCCEEDED,
          text: result.partial
            ? `partial profile: ${result.partialReason}`
            : `profiled ${(result.durationMs / 1000).toFixed(1)} s: ${result.sampler}`,
        };
      }
    } catch (err) {
      const why = (err as Error).message;
      if (interim) {
        profile.result = {
          ...interim,
          interim: false,
          partial: true,
          partialReason: `${why}; the samples until then are kept`,
        };
        outcome = { status: ActionStatus.FAILED, text: `partial profile kept: ${why}` };
      } else outcome = { status: ActionStatus.FAILED, text: `failed: ${why}` };
      profile.error = why;
    }
    profile.status = outcome.status;
    profile.endedAtMs = BigInt(this.deps.clock.now());
    if (this.reserved.get(spec.workerId) === spec.profileId) this.reserved.delete(spec.workerId);
    this.book.ended(profile);
    this.deps.log.info(
      { profile: spec.profileId, worker: spec.workerId, outcome: outcome.text },
      "profile ended",
    );
    await finish(outcome.status, outcome.text);
  }

  private sample(
    spec: ProfileSpec & { choice: SourceChoice },
    progress: (r: ProfileResult) => void,
  ): Promise<ProfileResult> {
    const { choice } = spec;
    if (choice.source === ProfileSource.AGENT) {
      const channel = this.deps.agents.get(spec.workerId);
      if (!channel) throw new Error("the worker's agent disconnected before the profile started");
      const start = create(StartProfileSchema, {
        mode: spec.mode,
        durationMs: spec.durationMs,
        sessionId: spec.sessionId,
        threadId: spec.threadId,
      });
      return channel.startProfile(start, spec.durationMs + RESULT_GRACE_MS, progress);
    }
    return profileFromDumps({
      mode: spec.mode,
      durationMs: spec.durationMs,
      everyMs: this.deps.dumpEveryMs,
      threadId: spec.threadId,
      sessionId: spec.sessionId,
      clock: this.deps.clock,
      dump: async () => {
        const worker = this.deps.fleet.get(spec.workerId);
        return worker ? this.deps.collector.collectNow(worker, "profile") : undefined;
      },
      gone: () => {
        const w = this.deps.fleet.get(spec.workerId);
        const state = w?.liveness.current.state;
        return !w || state === "gone" || state === "exited"
          ? `worker ${spec.workerId} went away`
          : undefined;
      },
      onProgress: progress,
    });
  }

  /** The running or kept profile `profileId`. */
  get(profileId: string): Profile | undefined {
    return this.book.get(profileId);
  }
}
