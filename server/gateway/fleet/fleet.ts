import type { FleetWorker } from "./fleet-worker.js";

/** One batch of changes, as every watcher receives it. */
export interface FleetDelta {
  changed: FleetWorker[];
  removedIds: string[];
  asOfMs: number;
}

export type FleetListener = (delta: FleetDelta) => void;

/**
 * The registry: every known worker by id. Changes are coalesced and published
 * at most once per `publishIntervalMs`, so a fleet where every worker beats
 * every second costs watchers one message per interval, not one per beat.
 */
export class Fleet {
  private readonly workers = new Map<string, FleetWorker>();
  private readonly dirty = new Set<string>();
  private readonly removed = new Set<string>();
  private readonly listeners = new Set<FleetListener>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly publishIntervalMs = 250,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.workers.size;
  }

  get(id: string): FleetWorker | undefined {
    return this.workers.get(id);
  }

  all(): FleetWorker[] {
    return [...this.workers.values()];
  }

  add(worker: FleetWorker): void {
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
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.dirty.size === 0 && this.removed.size === 0) return;
    const changed: FleetWorker[] = [];
    for (const id of this.dirty) {
      const worker = this.workers.get(id);
      if (worker) changed.push(worker);
    }
    const delta: FleetDelta = { changed, removedIds: [...this.removed], asOfMs: this.now() };
    this.dirty.clear();
    this.removed.clear();
    for (const listener of this.listeners) listener(delta);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
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
    this.timer = setTimeout(() => this.flush(), this.publishIntervalMs);
    this.timer.unref();
  }
}
