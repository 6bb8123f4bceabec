import type { FleetListener } from "./change-feed.js";
import type { TrackedWorker } from "./tracked-worker.js";

/**
 * The fleet as everyone but its writers sees it: look workers up, list
 * them, watch their changes. Only the writers listed in
 * `.dependency-cruiser.cjs` (`fleetWriters`, rule `fleet-writers-are-named`)
 * import `Fleet` itself with its operations; a reader that needs a change
 * asks a writer.
 */
export interface FleetReader {
  readonly size: number;
  get(id: string): TrackedWorker | undefined;
  all(): TrackedWorker[];
  /** Listens to batches of changes; returns the unsubscribe function. */
  subscribe(listener: FleetListener): () => void;
}
