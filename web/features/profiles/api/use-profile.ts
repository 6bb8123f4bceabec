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
import { useClient, useTransport } from "../../../shared/transport-context";
import { useStreamedQuery } from "../../../shared/use-streamed-query";
import { workerTransportSettings } from "../../../shared/worker-transport";
import { streamFromWorker, workerSettingsIfUsable, type WorkerLike } from "./profile-stream";

/** A profile as the page shows it: the record and how long it has sampled so far. */
export interface ProfileProgress {
  profile: Profile | undefined;
  elapsedMs: number;
}

const finished = (p: ProfileProgress) =>
  p.profile !== undefined && p.profile.status !== ActionStatus.RUNNING;

/** Set once a profile worker failed to run: the page follows profiles on the main thread since. */
let workersFailed = false;

/** The profile stream's worker, a chunk of its own that Vite emits and this view alone loads. */
function spawnWorker(): WorkerLike {
  return new Worker(new URL("./profile-stream.worker.ts", import.meta.url), {
    type: "module",
    name: "stallwatch-profile-stream",
  }) as unknown as WorkerLike;
}

/**
 * One profile, followed to its end (WatchProfile: progress about once a
 * second, then the finished profile with its result). Once finished it is
 * final, so the stream closes for good and the cache keeps it.
 *
 * The stream is read in a Web Worker where there is one (profile-stream.ts):
 * decoding a big finished profile was the one task over 50 ms left between
 * its arrival and the view on screen. Where there is none (jsdom, a router
 * transport), the same stream on the main thread.
 */
export function useProfile(profileId: string) {
  const transport = useTransport();
  const client = useClient(ProfileService);
  return useStreamedQuery<WatchProfileResponse, ProfileProgress>({
    queryKey: queryKeys.profile(profileId),
    open: (signal) => {
      const settings = workerSettingsIfUsable({
        workerAvailable: typeof Worker === "function",
        settings: workerTransportSettings(transport),
        workersFailed,
      });
      return settings
        ? streamFromWorker({
            spawn: spawnWorker,
            profileId,
            settings,
            signal,
            onWorkerFailed: () => (workersFailed = true),
          })
        : client.watchProfile({ profileId }, { signal });
    },
    fold: (state, update) => {
      // Where bench/profile-view.bench.ts starts its render clock: the result is on the
      // main thread (decoded, and copied from the worker if there is one).
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
