import type { Profile } from "../../../gen/stallwatch/v1/profile_pb.js";

/** Finished profiles kept in memory (with their results); older ones are dropped. */
const KEPT = 100;

/**
 * The gateway's profiles: the running ones (at most one per worker) and the
 * last {@link KEPT} finished, results included. Memory only, on purpose: a
 * profile that matters is kept by a snapshot (Snapshot.profiles), which is
 * stored. Listeners hear every change of one profile.
 */
export class ProfileBook {
  private readonly profiles = new Map<string, Profile>();
  private readonly runningOn = new Map<string, string>();
  private readonly listeners = new Map<string, Set<(p: Profile) => void>>();

  get(profileId: string): Profile | undefined {
    return this.profiles.get(profileId);
  }

  /** The profile running on `workerId`, if any. */
  runningFor(workerId: string): Profile | undefined {
    const id = this.runningOn.get(workerId);
    return id === undefined ? undefined : this.profiles.get(id);
  }

  started(profile: Profile): void {
    this.profiles.set(profile.profileId, profile);
    this.runningOn.set(profile.workerId, profile.profileId);
    this.notify(profile);
  }

  /** Announces a change of a running profile (progress, interim result). */
  changed(profile: Profile): void {
    this.notify(profile);
  }

  ended(profile: Profile): void {
    if (this.runningOn.get(profile.workerId) === profile.profileId)
      this.runningOn.delete(profile.workerId);
    // Re-inserted so the map's order is the order profiles ended in.
    this.profiles.delete(profile.profileId);
    this.profiles.set(profile.profileId, profile);
    for (const [id, p] of this.profiles) {
      if (this.profiles.size <= KEPT) break;
      if (this.runningOn.get(p.workerId) !== id) this.profiles.delete(id);
    }
    this.notify(profile);
  }

  /** Newest first; `workerId` "" = every worker. */
  list(workerId: string, limit: number): Profile[] {
    const out: Profile[] = [];
    for (const p of [...this.profiles.values()].reverse()) {
      if (workerId !== "" && p.workerId !== workerId) continue;
      out.push(p);
      if (out.length >= limit) break;
    }
    return out;
  }

  subscribe(profileId: string, listener: (p: Profile) => void): () => void {
    let set = this.listeners.get(profileId);
    if (!set) this.listeners.set(profileId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(profileId);
    };
  }

  private notify(profile: Profile): void {
    for (const l of this.listeners.get(profile.profileId) ?? []) l(profile);
  }
}
