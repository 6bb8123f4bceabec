import { Code, ConnectError } from "@connectrpc/connect";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ActionStatus } from "../../../../gen/stallwatch/v1/control_pb";
import type { ProfileMode } from "../../../../gen/stallwatch/v1/agent_pb";
import {
  ProfileService,
  type Profile,
  type WatchProfileResponse,
} from "../../../../gen/stallwatch/v1/profile_pb";
import { newActionId } from "../../../shared/action-id";
import { queryKeys } from "../../../shared/query-keys";
import { useClient } from "../../../shared/transport-context";
import { useStreamedQuery } from "../../../shared/use-streamed-query";

/** A profile as the page shows it: the record and how long it has sampled so far. */
export interface ProfileProgress {
  profile: Profile | undefined;
  elapsedMs: number;
}

const finished = (p: ProfileProgress) =>
  p.profile !== undefined && p.profile.status !== ActionStatus.RUNNING;

/**
 * One profile, followed to its end (WatchProfile: progress about once a
 * second, then the finished profile with its result). Once finished it is
 * final, so the stream closes for good and the cache keeps it.
 */
export function useProfile(profileId: string) {
  const client = useClient(ProfileService);
  return useStreamedQuery<WatchProfileResponse, ProfileProgress>({
    queryKey: queryKeys.profile(profileId),
    open: (signal) => client.watchProfile({ profileId }, { signal }),
    fold: (state, update) => {
      // Where bench/profile-view.bench.ts starts its render clock: the result is here.
      if (update.profile?.result && update.profile.status !== ActionStatus.RUNNING)
        performance.mark("stallwatch:profile-received");
      return { profile: update.profile ?? state.profile, elapsedMs: update.elapsedMs };
    },
    initial: { profile: undefined, elapsedMs: 0 },
    done: finished,
    fatalCodes: [Code.NotFound, Code.InvalidArgument, Code.PermissionDenied, Code.Unauthenticated],
    // A result may be megabytes: keep it only while someone looks, plus a minute.
    gcTime: 60_000,
  });
}

export interface StartProfileInput {
  workerId: string;
  /** "" = every UDF thread of the worker. */
  sessionId: string;
  mode: ProfileMode;
  durationMs: number;
  reason: string;
}

/**
 * Starts a profile. The profile id is made once per attempt (like an
 * action's), so a retried request is the same profile on the gateway.
 */
export function useStartProfile() {
  const client = useClient(ProfileService);
  const queryClient = useQueryClient();
  const mutation = useMutation({
    mutationFn: async (input: StartProfileInput & { profileId: string }) => {
      const response = await client.startProfile(input, { timeoutMs: 10_000 });
      return response.profile;
    },
    onSuccess: (profile) => {
      if (profile)
        queryClient.setQueryData<ProfileProgress>(queryKeys.profile(profile.profileId), {
          profile,
          elapsedMs: 0,
        });
    },
  });
  return {
    start: (input: StartProfileInput, onStarted: (profileId: string) => void) =>
      mutation.mutate(
        { ...input, profileId: newActionId("ui") },
        { onSuccess: (p) => p && onStarted(p.profileId) },
      ),
    pending: mutation.isPending,
    error: mutation.error ? ConnectError.from(mutation.error) : undefined,
  };
}
