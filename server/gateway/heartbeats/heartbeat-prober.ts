import type { Clock } from "../../shared/clock/clock.js";
import type { Logger } from "../../shared/logging/logger.js";
import { formatHostPort, type HostPort } from "../../shared/net/host-port.js";
import type { TrackedWorker } from "../fleet/tracked-worker.js";
import type { Fleet } from "../fleet/fleet.js";
import { ManageClient } from "./manage-client.js";
import { ProbePool } from "./probe-pool.js";
import type { BeatClient, BeatRecord } from "./probe-shard.js";

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
  /**
   * Worker threads that probe (`--probe-threads`); 0, the default here,
   * probes on the calling thread (unit tests, in-process gateways).
   */
  probeThreads?: number;
  log: Logger;
  /** Every heartbeat's result, for metrics. */
  onBeat?: (result: "ok" | "missed" | "gone", rttMs: number) => void;
  /** A probe thread died; without this the process exits with code 1. */
  onFatal?: (err: Error) => void;
  /** Schedules beats probed on this thread (probe threads keep the real clock). */
  clock: Clock;
  /** How this thread's shard calls a target (default ManageClient); unit tests pass a fake. */
  connect?: (host: string, port: number) => BeatClient;
}

export const defaultProberOptions = {
  intervalMs: 1000,
  deadlineMs: 1000,
  unresponsiveAfter: 3,
  retentionMs: 15 * 60_000,
  maxBackoffMs: 30_000,
} as const;

/**
 * Scheduling slot: beats due within it start together, deadlines are checked
 * once per slot. Every wake-up of a probe thread is a context switch, the
 * larger part of a beat's CPU: 10 ms slots send ~10 beats together at 1,000
 * workers per thread and their answers come back together, which measured
 * 46 µs of CPU per beat where 5 ms slots measured 54-68 µs, p99 unchanged.
 */
const TICK_MS = 10;
/**
 * How often probe threads send their records. Each message wakes the main
 * thread, a fixed cost that a small fleet pays per beat: at 1,000 workers a
 * 10 ms flush cost ~30 µs more CPU per beat than 50 ms. Records carry their
 * own times, so liveness is judged as of the beat, at most 50 ms later.
 */
const FLUSH_MS = 50;

interface Target {
  worker: TrackedWorker;
  slot: number;
  address: HostPort;
  /** Made on first use, for shutdown actions: heartbeats use the probe shard's own. */
  actionClient: ManageClient | undefined;
}

/**
 * Sends one `Manage(Heartbeat)` per interval to each static target, with a
 * deadline and at most one call in flight per worker, each worker started at
 * a random offset so a large fleet does not beat in lockstep. A slow or
 * blackholed worker never delays another's heartbeat. Gone workers are
 * retried with jittered exponential backoff.
 *
 * The calls run in probe shards (ProbePool), on worker threads in a gateway;
 * this class keeps the fleet side: it applies each beat record to the
 * worker's liveness, round trips and metrics, on the main thread.
 */
export class HeartbeatProber {
  private readonly targets = new Map<string, Target>();
  private readonly bySlot = new Map<number, Target>();
  private nextSlot = 1;
  private stopped = false;
  private readonly pool: ProbePool;

  constructor(
    private readonly fleet: Fleet,
    private readonly opts: ProberOptions,
  ) {
    this.pool = new ProbePool({
      threads: opts.probeThreads ?? 0,
      intervalMs: opts.intervalMs,
      deadlineMs: opts.deadlineMs,
      maxBackoffMs: opts.maxBackoffMs,
      tickMs: TICK_MS,
      flushMs: FLUSH_MS,
      clock: opts.clock,
      ...(opts.connect ? { connect: opts.connect } : {}),
      onRecord: (record) => this.apply(record),
      onFatal:
        opts.onFatal ??
        ((err) => {
          opts.log.fatal({ err }, "a probe thread died");
          process.exit(1);
        }),
    });
  }

  /** Worker threads probing (0: this thread). */
  get probeThreads(): number {
    return this.pool.threads;
  }

  /**
   * Starts probing `address`. A static target's worker id is its address; an
   * agent that announces its Manage address passes its own worker entry, which
   * replaces a static target on the same address (one worker, one row).
   */
  addTarget(address: HostPort, existingWorker?: TrackedWorker): TrackedWorker {
    const addressId = formatHostPort(address);
    const id = existingWorker?.id ?? addressId;
    const existing = this.targets.get(id);
    if (existing) {
      if (existing.worker.address === addressId) return existing.worker;
      this.removeTarget(id, { keepWorker: true }); // the worker came back on another port
    }
    if (existingWorker && id !== addressId && this.targets.has(addressId))
      this.removeTarget(addressId);
    const worker = existingWorker ?? this.fleet.enroll(id, "spark", addressId);
    this.fleet.moveTo(worker, addressId);
    const target: Target = { worker, slot: this.nextSlot++, address, actionClient: undefined };
    this.targets.set(id, target);
    this.bySlot.set(target.slot, target);
    if (!this.stopped)
      this.pool.add(target.slot, address.host, address.port, Math.random() * this.opts.intervalMs);
    return worker;
  }

  /** Stops probing `id`; with `keepWorker` its fleet entry stays (e.g. an agent's). */
  removeTarget(id: string, { keepWorker = false } = {}): void {
    const target = this.targets.get(id);
    if (!target) return;
    this.pool.remove(target.slot);
    target.actionClient?.close();
    this.targets.delete(id);
    this.bySlot.delete(target.slot);
    if (!keepWorker) this.fleet.forget(id);
  }

  has(id: string): boolean {
    return this.targets.has(id);
  }

  /**
   * Heartbeat `id` now rather than at its next turn (e.g. its agent stream
   * just broke), unless a call to it is in flight.
   */
  probeNow(id: string): void {
    const target = this.targets.get(id);
    if (target) this.pool.probeNow(target.slot);
  }

  /** A Manage client for a probed worker, for shutdown actions (off the hot path). */
  clientFor(id: string): ManageClient | undefined {
    const target = this.targets.get(id);
    if (!target) return undefined;
    target.actionClient ??= new ManageClient(target.address);
    return target.actionClient;
  }

  stop(): void {
    this.stopped = true;
    this.pool.stop();
    for (const target of this.targets.values()) target.actionClient?.close();
  }

  private apply(record: BeatRecord): void {
    const target = this.bySlot.get(record.slot);
    if (this.stopped || !target) return; // removed while its beat was on its way
    const { worker } = target;
    const now = record.atMs;
    if (record.outcome === "ok") {
      this.opts.onBeat?.("ok", record.rttMs);
      this.fleet.beatAnswered(worker, now, {
        // The first beat on a connection is liveness, not latency: it carried
        // the peer's warm-up and once held a worker's p99 at ~480 ms for a
        // whole window over 3-8 ms beats.
        ...(record.firstOnConnection ? {} : { rttMs: record.rttMs }),
        // Absent metrics: the answer was byte-identical to the previous one.
        metrics: record.metrics ?? worker.metrics,
      });
    } else if (record.outcome === "timeout" || record.outcome === "status") {
      this.opts.onBeat?.("missed", record.rttMs);
      this.fleet.beatMissed(worker, now, record.reason);
    } else {
      this.opts.onBeat?.("gone", record.rttMs);
      this.fleet.connectionLost(worker, now, record.reason);
    }
  }
}
