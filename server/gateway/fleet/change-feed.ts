import type { Clock, Timer } from "../../shared/clock/clock.js";
import type { TrackedWorker } from "./tracked-worker.js";

/** One batch of changes, as every watcher receives it. */
export interface FleetDelta {
  changed: TrackedWorker[];
  removedIds: string[];
  asOfMs: number;
}

export type FleetListener = (delta: FleetDelta) => void;

/**
 * The registry under the fleet: every known worker by id, and the batches
 * watchers receive. Changes are coalesced and published at most once per
 * `publishIntervalMs`, so a fleet where every worker beats every second costs
 * watchers one message per interval, not one per beat.
 */
export class ChangeFeed<W extends TrackedWorker> {
  private readonly workers = new Map<string, W>();
  private readonly dirty = new Set<string>();
  private readonly removed = new Set<string>();
  private readonly listeners = new Set<FleetListener>();
  private timer: Timer | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly publishIntervalMs: number,
  ) {}

  get size(): number {
    return this.workers.size;
  }

  get(id: string): W | undefined {
    return this.workers.get(id);
  }

  all(): W[] {
    return [...this.workers.values()];
  }

  add(worker: W): void {
    this.workers.set(worker.id, worker);
    this.removed.delete(worker.id);
    this.changed(worker.id);
  }

  remove(id: string): void {
    if (!this.workers.delete(id)) return;
    this.dirty.delete(id);
    this.removed.add(id);
    this.schedule();
  }

  /** Marks a worker as changed; watchers hear about it in the next batch. */
  changed(id: string): void {
    this.dirty.add(id);
    this.schedule();
  }

  /** Listens to batches of changes; returns the unsubscribe function. */
  subscribe(listener: FleetListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Publishes pending changes now (also used on shutdown and in tests). */
  flush(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.dirty.size === 0 && this.removed.size === 0) return;
    const changed: TrackedWorker[] = [];
    for (const id of this.dirty) {
      const worker = this.workers.get(id);
      if (worker) changed.push(worker);
    }
    const delta: FleetDelta = { changed, removedIds: [...this.removed], asOfMs: this.clock.now() };
    this.dirty.clear();
    this.removed.clear();
    for (const listener of this.listeners) listener(delta);
  }

  close(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.listeners.clear();
  }

  private schedule(): void {
    if (this.timer || this.listeners.size === 0) {
      // With nobody watching, changes simply wait for the next subscriber's
      // full state; the dirty set is bounded by the fleet size.
      if (this.listeners.size === 0) {
        this.dirty.clear();
        this.removed.clear();
      }
      return;
    }
    this.timer = this.clock.after(this.publishIntervalMs, () => this.flush());
  }
}
