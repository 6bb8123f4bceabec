/**
 * Every TanStack Query key of the dashboard, in one place: features build
 * keys here and never write them by hand, so an invalidation by prefix
 * (`queryKeys.audit.all`) reaches every list it means to.
 *
 * All keys start with "stallwatch": `invalidateQueries()` with no key (sign
 * in / sign out) refetches them all.
 */
export const queryKeys = {
  /** The live fleet (WatchFleet), one per client. */
  fleet: () => ["stallwatch", "fleet", "live"] as const,
  /** One worker's live detail (WatchWorker), whatever its window. */
  worker: (workerId: string) => ["stallwatch", "worker", workerId] as const,
  /** One worker's current and previous thread dump (WatchThreadDumps). */
  threadDumps: (workerId: string) => ["stallwatch", "thread-dumps", workerId] as const,
  /** One action as it runs (WatchAction). */
  action: (actionId: string) => ["stallwatch", "action", actionId] as const,
  whoAmI: () => ["stallwatch", "whoami"] as const,
  /** One profile as it runs, then its result (WatchProfile). */
  profile: (profileId: string) => ["stallwatch", "profile", profileId] as const,
  /** Every stalled session in the fleet (WatchStalledSessions). */
  stalled: () => ["stallwatch", "stalled"] as const,
  audit: {
    all: ["stallwatch", "audit"] as const,
    list: (filter: { workerId: string; actor: string }) => ["stallwatch", "audit", filter] as const,
  },
  events: (filter: { workerId: string; kind: string }) => ["stallwatch", "events", filter] as const,
  policies: {
    all: ["stallwatch", "policies"] as const,
    list: () => ["stallwatch", "policies", "list"] as const,
    decisions: (policy: string) => ["stallwatch", "policies", "decisions", policy] as const,
  },
  snapshots: {
    all: ["stallwatch", "snapshots"] as const,
    list: () => ["stallwatch", "snapshots", "list"] as const,
    one: (id: string, workerId: string | undefined) =>
      ["stallwatch", "snapshots", "one", id, workerId ?? ""] as const,
  },
} as const;
