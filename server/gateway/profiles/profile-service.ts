import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { ProfileMode } from "../../../gen/stallwatch/v1/agent_pb.js";
import { ActionKind, ActionStatus } from "../../../gen/stallwatch/v1/control_pb.js";
import {
  GetProfileResponseSchema,
  ListProfilesResponseSchema,
  ProfileService,
  StartProfileResponseSchema,
  WatchProfileResponseSchema,
  type Profile,
} from "../../../gen/stallwatch/v1/profile_pb.js";
import type { ActionRunner } from "../actions/action-runner.js";
import { requireOperator, type AuthConfig } from "../auth/caller.js";
import { BoundedQueue } from "../../shared/streams/bounded-queue.js";
import type { Clock } from "../../shared/clock/clock.js";
import type { ProfileRunner } from "./profile-runner.js";

export const DEFAULT_PROFILE_MS = 10_000;
export const MAX_PROFILE_MS = 60_000;
const PROFILE_ID = /^[\w-]{1,100}$/;

/** Profiles for the browser (proto/stallwatch/v1/profile.proto, docs/profiles.md). */
export function createProfileService(deps: {
  runner: ProfileRunner;
  actions: ActionRunner;
  auth: AuthConfig;
  clock: Clock;
}): ServiceImpl<typeof ProfileService> {
  const { runner, actions } = deps;
  const found = (profileId: string): Profile => {
    const profile = runner.get(profileId);
    if (!profile)
      throw new ConnectError(
        `no profile "${profileId.slice(0, 100)}" (profiles are kept in memory until the gateway restarts; a snapshot keeps one for good)`,
        Code.NotFound,
      );
    return profile;
  };
  return {
    async startProfile(request, context) {
      const caller = requireOperator(context.requestHeader, deps.auth);
      if (!PROFILE_ID.test(request.profileId))
        throw new ConnectError(
          "profile_id must be 1-100 letters, digits, _ or -",
          Code.InvalidArgument,
        );
      const known = runner.get(request.profileId);
      if (known) {
        if (known.workerId !== request.workerId)
          throw new ConnectError(
            `profile id "${request.profileId}" was already used for another worker`,
            Code.AlreadyExists,
          );
        return create(StartProfileResponseSchema, { profile: known });
      }
      const durationMs = request.durationMs || DEFAULT_PROFILE_MS;
      if (durationMs > MAX_PROFILE_MS)
        throw new ConnectError(
          `duration_ms is ${durationMs}; a profile lasts at most ${MAX_PROFILE_MS} ms (60 s)`,
          Code.InvalidArgument,
        );
      if (request.workerId === "")
        throw new ConnectError("worker_id is required", Code.InvalidArgument);
      if (request.reason.trim() === "")
        throw new ConnectError("a reason is required", Code.InvalidArgument);
      const mode = request.mode === ProfileMode.CPU ? ProfileMode.CPU : ProfileMode.WALL;
      const spec = {
        profileId: request.profileId,
        workerId: request.workerId,
        sessionId: request.sessionId.slice(0, 200),
        threadId: request.threadId.slice(0, 200),
        mode,
        durationMs,
      };
      runner.admit(spec);
      try {
        const action = await actions.start(
          ActionKind.PROFILE,
          {
            actionId: spec.profileId,
            workerId: spec.workerId,
            reason: request.reason,
            ...(spec.sessionId ? { sessionId: spec.sessionId } : {}),
          },
          caller,
        );
        // The action runner started sampling in the background; the book has it
        // unless the id named an older action (a restart lost its profile).
        const profile = runner.get(spec.profileId);
        if (!profile) {
          runner.forget(spec.profileId);
          throw new ConnectError(
            `profile id "${spec.profileId}" names an earlier action (${ActionStatus[action.status].toLowerCase()}) whose profile is no longer kept`,
            Code.AlreadyExists,
          );
        }
        return create(StartProfileResponseSchema, { profile });
      } catch (err) {
        runner.forget(spec.profileId);
        throw err;
      }
    },

    async *watchProfile(request, context) {
      let current = found(request.profileId);
      const queue = new BoundedQueue<Profile>(16, deps.clock);
      const unsubscribe = runner.book.subscribe(request.profileId, (p) => queue.push(p));
      const elapsed = () =>
        Math.min(current.durationMs, Math.max(0, deps.clock.now() - Number(current.startedAtMs)));
      try {
        const first =
          current.status === ActionStatus.RUNNING ? { ...current, result: undefined } : current;
        yield create(WatchProfileResponseSchema, { profile: first, elapsedMs: elapsed() });
        while (current.status === ActionStatus.RUNNING) {
          // Wakes on a change or after a second, for the elapsed time.
          await queue.takeAll(context.signal, 1000);
          if (context.signal.aborted) break;
          queue.overflowed = false;
          current = runner.get(request.profileId) ?? current;
          // While sampling, progress without the growing result: it comes once, at the end.
          const shown =
            current.status === ActionStatus.RUNNING ? { ...current, result: undefined } : current;
          yield create(WatchProfileResponseSchema, { profile: shown, elapsedMs: elapsed() });
        }
      } finally {
        unsubscribe();
      }
    },

    getProfile(request) {
      return create(GetProfileResponseSchema, { profile: found(request.profileId) });
    },

    listProfiles(request) {
      const limit = Math.min(request.limit || 50, 200);
      return create(ListProfilesResponseSchema, {
        profiles: runner.book
          .list(request.workerId, limit)
          .map((p) => ({ ...p, result: undefined })),
      });
    },
  };
}
