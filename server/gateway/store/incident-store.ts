/**
 * Open notification incidents, one row per worker (server/gateway/store
 * implements it on SQLite and PostgreSQL). Kept so a gateway that restarts,
 * or takes a worker over from a peer, knows an incident was already
 * announced: the same incident is never announced twice, and its recovery
 * exactly once (by whoever removes the row).
 */
export interface IncidentStore {
  /**
   * Opens `workerId`'s incident with `cause` unless one is open (then adds
   * `cause` to it). `opened` is true only for the caller whose insert made
   * the row: that caller announces the incident.
   */
  openIncident(
    workerId: string,
    cause: string,
    atMs: number,
  ): Promise<{ opened: boolean; causes: string[] }>;
  /** The open incident's causes, or undefined when none is open. */
  getIncident(workerId: string): Promise<string[] | undefined>;
  /** Replaces the open incident's causes (a cause cleared, another added). */
  setIncidentCauses(workerId: string, causes: string[], atMs: number): Promise<void>;
  /** Closes it; true only for the caller whose delete removed the row (it announces the recovery). */
  closeIncident(workerId: string): Promise<boolean>;
}

/** At most this many causes are kept per incident (each a session id or "liveness"). */
export const MAX_INCIDENT_CAUSES = 256;
/** A cause longer than this is cut (session ids come from workers). */
export const MAX_CAUSE_CHARS = 300;
