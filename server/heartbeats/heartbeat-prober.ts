import type { Logger } from "../logging/logger.js";
import { formatHostPort, type HostPort } from "../net/host-port.js";
import {
  createFleetWorker,
  fleetWorkerOptions,
  recordMetrics,
  type FleetWorker,
} from "../fleet/fleet-worker.js";
import type { Fleet } from "../fleet/fleet.js";
import type { LivenessChange } from "./liveness.js";
import { ManageClient } from "./manage-client.js";

export interface ProberOptions {
  /** Time between the starts of two heartbeats to one worker. */
  intervalMs: number;
  /** Per-call deadline. */
  deadlineMs: number;
  /** Misses in a row before a worker is unresponsive. */
  unresponsiveAfter: number;
  /** How long round-trip samples are kept. */
  retentionMs: number;
  /** Longest wait between reconnect attempts to a gone worker. */
  maxBackoffMs: number;
  /** A thread stack unchanged this long is "not moving". */
  notMovingMs?: number;
  log: Logger;
  onLivenessChange?: (worker: FleetWorker, change: LivenessChange) => void;
  /** Every heartbeat's result, for metrics. */
  onBeat?: (result: "ok" | "missed" | "gone", rttMs: number) => void;
  now?: () => number;
}

export const defaultProberOptions = {
  intervalMs: 1000,
  deadlineMs: 1000,
  unresponsiveAfter: 3,
  retentionMs: 15 * 60_000,
  maxBackoffMs: 30_000,
} as const;

interface Target {
  worker: FleetWorker;
  client: ManageClient;
  timer: NodeJS.Timeout | undefined;
  backoffMs: number;
  inFlight: boolean;
}

/**
 * Sends one `Manage(Heartbeat)` per interval to each static target, with a
 * deadline and at most one call in flight per worker. Each target runs its own
 * timer, started at a random offset, so a slow or blackholed worker never
 * delays another's heartbeat and a large fleet does not beat in lockstep.
 * Gone workers are retried with jittered exponential backoff.
 */
export class HeartbeatProber {
  private readonly targets = new Map<string, Target>();
  private stopped = false;
  private readonly now: () => number;

  constructor(
    private readonly fleet: Fleet,
    private readonly opts: ProberOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * Starts probing `address`. A static target's worker id is its address; an
   * agent that announces its Manage address passes its own worker entry, which
   * replaces a static target on the same address (one worker, one row).
   */
  addTarget(address: HostPort, existingWorker?: FleetWorker): FleetWorker {
    const addressId = formatHostPort(address);
    const id = existingWorker?.id ?? addressId;
    const existing = this.targets.get(id);
    if (existing) {
      if (existing.worker.address === addressId) return existing.worker;
      this.removeTarget(id); // the worker came back on another port
    }
    if (existingWorker && id !== addressId && this.targets.has(addressId))
      this.removeTarget(addressId);
    const worker =
      existingWorker ??
      createFleetWorker(id, "spark", id, fleetWorkerOptions(this.opts), this.now());
    worker.address = addressId;
    const target: Target = {
      worker,
      client: new ManageClient(address),
      timer: undefined,
      backoffMs: 0,
      inFlight: false,
    };
    this.targets.set(id, target);
    this.fleet.add(worker);
    this.schedule(target, Math.random() * this.opts.intervalMs);
    return worker;
  }

  /** Stops probing `id`; with `keepWorker` its fleet entry stays (e.g. an agent's). */
  removeTarget(id: string, { keepWorker = false } = {}): void {
    const target = this.targets.get(id);
    if (!target) return;
    clearTimeout(target.timer);
    target.client.close();
    this.targets.delete(id);
    if (!keepWorker) this.fleet.remove(id);
  }

  has(id: string): boolean {
    return this.targets.has(id);
  }

  /** The Manage client of a probed worker, for shutdown actions. */
  clientFor(id: string): ManageClient | undefined {
    return this.targets.get(id)?.client;
  }

  /**
   * Beats `id` now instead of at its next turn, e.g. because its agent stream
   * just broke: a killed worker's refused connection then marks it gone at
   * once. The connection is dropped first, so the probe dials afresh rather
   * than wait on a socket the kernel has not yet reported reset. No-op while
   * a beat is in flight or for an unknown id.
   */
  probeNow(id: string): void {
    const target = this.targets.get(id);
    if (!target || target.inFlight || this.stopped) return;
    clearTimeout(target.timer);
    target.client.close();
    void this.beat(target);
  }

  stop(): void {
    this.stopped = true;
    for (const target of this.targets.values()) {
      clearTimeout(target.timer);
      target.client.close();
    }
  }

  private schedule(target: Target, delayMs: number): void {
    if (this.stopped) return;
    target.timer = setTimeout(() => void this.beat(target), delayMs);
  }

  private async beat(target: Target): Promise<void> {
    const started = this.now();
    target.inFlight = true;
    const result = await target.client.heartbeat(this.opts.deadlineMs).finally(() => {
      target.inFlight = false;
    });
    if (this.stopped || this.targets.get(target.worker.id) !== target) return;
    const { worker } = target;
    const now = this.now();
    let change: LivenessChange | undefined;
    if (result.ok) {
      // The first beat on a connection is liveness, not latency: it carried
      // the peer's warm-up and once held a worker's p99 at ~480 ms for a
      // whole window over 3-8 ms beats.
      if (!result.firstOnConnection) worker.roundTrips.push(now, result.rttMs);
      recordMetrics(worker, result.value, now);
      this.opts.onBeat?.("ok", result.rttMs);
      target.backoffMs = 0;
      change = worker.liveness.answered(now);
    } else if (result.kind === "timeout" || result.kind === "status") {
      this.opts.onBeat?.("missed", result.rttMs);
      change = worker.liveness.missed(now, result.reason);
    } else {
      this.opts.onBeat?.("gone", result.rttMs);
      target.client.close();
      target.backoffMs = Math.min(
        this.opts.maxBackoffMs,
        Math.max(this.opts.intervalMs, target.backoffMs * 2),
      );
      change = worker.liveness.gone(now, result.reason);
    }
    this.fleet.changed(worker.id);
    if (change) {
      const level = change.to === "healthy" ? "info" : "warn";
      this.opts.log[level](
        { worker: worker.id, from: change.from, to: change.to, reason: change.reason },
        "liveness changed",
      );
      this.opts.onLivenessChange?.(worker, change);
    }
    if (target.backoffMs > 0) {
      // ±20% jitter so a fleet that vanished together does not return in lockstep.
      this.schedule(target, target.backoffMs * (0.8 + Math.random() * 0.4));
    } else {
      this.schedule(target, Math.max(0, started + this.opts.intervalMs - now));
    }
  }
}
