import { toBinary } from "@bufbuild/protobuf";
import { ProfileResultSchema } from "../../../gen/stallwatch/v1/agent_pb.js";
import { ActionStatus } from "../../../gen/stallwatch/v1/control_pb.js";
import type { Profile } from "../../../gen/stallwatch/v1/profile_pb.js";

/** A fleet snapshot keeps at most this many profiles (one per worker, newest first). */
export const MAX_SNAPSHOT_PROFILES = 10;
/**
 * Results kept by one snapshot, encoded bytes. One result is at most the
 * worker listener's 4 MiB; past this budget older profiles are left out, so
 * a snapshot of a fleet profiled everywhere stays a few MiB.
 */
export const MAX_SNAPSHOT_PROFILE_BYTES = 8 << 20;

/**
 * The profiles a snapshot keeps: for each worker in scope, its most recent
 * profile that has ended (finished, failed with a partial result, or
 * refused by the worker), results included; newest first, at most
 * {@link MAX_SNAPSHOT_PROFILES} and {@link MAX_SNAPSHOT_PROFILE_BYTES} of
 * results. A profile still running is not in it: its samples are not final.
 * `newestFirst` is the gateway's profile book (ProfileBook.list).
 */
export function profilesForSnapshot(
  newestFirst: readonly Profile[],
  inScope: (workerId: string) => boolean,
): Profile[] {
  const kept: Profile[] = [];
  const seen = new Set<string>();
  let bytes = 0;
  for (const profile of newestFirst) {
    if (kept.length >= MAX_SNAPSHOT_PROFILES) break;
    if (profile.status === ActionStatus.RUNNING || seen.has(profile.workerId)) continue;
    if (!inScope(profile.workerId)) continue;
    const size = profile.result ? toBinary(ProfileResultSchema, profile.result).length : 0;
    if (bytes + size > MAX_SNAPSHOT_PROFILE_BYTES) continue;
    seen.add(profile.workerId);
    bytes += size;
    kept.push(profile);
  }
  return kept;
}

/**
 * Profiles from several gateways (this one's book and its peers' shards) as
 * one list, newest ended first, each profile once, for
 * {@link profilesForSnapshot}.
 */
export function newestEndedFirst(...lists: readonly (readonly Profile[])[]): Profile[] {
  const byId = new Map<string, Profile>();
  for (const list of lists)
    for (const p of list) if (!byId.has(p.profileId)) byId.set(p.profileId, p);
  return [...byId.values()].sort((a, b) => Number(b.endedAtMs - a.endedAtMs));
}

/**
 * The profiles a snapshot view returns: a worker's permalink gets that
 * worker's, whole; the fleet summary gets every kept profile without its
 * result (the fleet page lists them, a worker's page shows them).
 */
export function profilesForView(
  profiles: readonly Profile[],
  view: { summary?: boolean; workerId?: string },
): Profile[] {
  if (view.workerId) return profiles.filter((p) => p.workerId === view.workerId);
  if (view.summary) return profiles.map((p) => ({ ...p, result: undefined }));
  return [...profiles];
}
