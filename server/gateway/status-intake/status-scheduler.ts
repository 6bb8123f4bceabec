import type { ThreadDumpView } from "../../../gen/stallwatch/v1/fleet_pb.js";
import type { Clock, Timer } from "../../shared/clock/clock.js";
import type { Logger } from "../../shared/logging/logger.js";
import type { AgentChannels } from "../agent-endpoint/agent-options.js";
import type { BeamChannels } from "../beam-endpoint/beam-status-service.js";
import type { TrackedWorker } from "../fleet/tracked-worker.js";
import type { FleetReader } from "../fleet/fleet-reader.js";
import type { StallWatch } from "../stalls/stall-watch.js";
import { DumpBudget, type DumpTarget } from "./dump-scheduler.js";
import type { StatusIngest } from "./status-ingest.js";

export interface StatusSchedulerOptions {
  /** Dumps for every worker this often (default 10 s). */
  dumpIntervalMs: number;
  /** Dumps for a worker someone is watching (1-5 s; default 2 s). */
  watchedIntervalMs: number;
  /** Deadline on each agent status request. */
  deadlineMs: number;
  /** The dump budget never drops below this many per second (default 50). */
  minDumpsPerSecond?: number;
  /** Nor rises above this: diagnostics must never cause the outage. */
  maxDumpsPerSecond: number;
  log: Logger;
}

/** How often the scheduler looks: a quarter second, so watched workers keep a 1 s cadence. */
const TICK_MS = 250;

interface Target extends DumpTarget {
  worker: TrackedWorker;
}

/** Dumps per second: allowed now, asked for by the fleet, and the ceiling. */
export interface DumpBudgetUse {
  perSecond: number;
  demandPerSecond: number;
  maxPerSecond: number;
}

/**
 * Decides when each agent and Beam harness is asked for a thread dump: every
 * worker on a slow cadence, watched ones faster, all within a fleet-wide
 * budget, one request in flight per worker, each with a deadline. Between
 * dumps it keeps the stall clocks running.
 */
export class StatusScheduler {
  private timer: Timer | undefined;
  private readonly budget: DumpBudget;
  private lastTickMs: number;
  private readonly inFlight = new Set<string>();
  /** Per worker: dashboard views watching it, and when its next dump is due. */
  private readonly cadence = new WeakMap<
    TrackedWorker,
    { watchers: number; nextDumpAtMs: number }
  >();

  constructor(
    private readonly fleet: FleetReader,
    private readonly agents: AgentChannels,
    private readonly beams: BeamChannels,
    private readonly ingest: StatusIngest,
    private readonly stalls: StallWatch,
    private readonly clock: Clock,
    private readonly opts: StatusSchedulerOptions,
  ) {
    this.lastTickMs = clock.now();
    this.budget = new DumpBudget({
      intervalMs: opts.dumpIntervalMs,
      watchedIntervalMs: opts.watchedIntervalMs,
      minPerSecond: opts.minDumpsPerSecond ?? 50,
      maxPerSecond: opts.maxDumpsPerSecond,
    });
  }

  start(): void {
    this.timer = this.clock.every(TICK_MS, () => this.tick());
  }

  stop(): void {
    this.timer?.cancel();
  }

  /** The dump budget at the last tick: what it allows, and what the fleet asked for. */
  budgetUse(): DumpBudgetUse {
    return {
      perSecond: this.budget.perSecond,
      demandPerSecond: this.budget.demandPerSecond,
      maxPerSecond: this.opts.maxDumpsPerSecond,
    };
  }

  /** Counts a dashboard view watching `workerId`; call the result when it closes. */
  watch(workerId: string): () => void {
    const worker = this.fleet.get(workerId);
    if (!worker) return () => undefined;
    const cadence = this.cadenceOf(worker);
    cadence.watchers += 1;
    cadence.nextDumpAtMs = 0;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      cadence.watchers = Math.max(0, cadence.watchers - 1);
    };
  }

  /** Takes a dump now (bounded by the deadline); undefined when the worker cannot give one. */
  async collectNow(worker: TrackedWorker, trigger: string): Promise<ThreadDumpView | undefined> {
    if (worker.kind === "beam") {
      const beam = this.beams.get(worker.id);
      return beam ? beam.requestStatus(trigger) : worker.status.latestDump;
    }
    const channel = this.agents.get(worker.id);
    if (!channel || this.inFlight.has(worker.id)) return worker.status.latestDump;
    this.inFlight.add(worker.id);
    try {
      const report = await channel.requestStatus(
        { includeThreads: true, maxFinished: 20 },
        this.opts.deadlineMs,
      );
      return this.ingest.report(worker, report, trigger);
    } catch (err) {
      this.opts.log.debug(
        { worker: worker.id, err: (err as Error).message },
        "status request failed",
      );
      return undefined;
    } finally {
      this.inFlight.delete(worker.id);
    }
  }

  /** One scheduling round; public so a test can drive it with a fake clock. */
  tick(): void {
    const now = this.clock.now();
    const elapsed = now - this.lastTickMs;
    this.lastTickMs = now;
    const targets: Target[] = [];
    for (const worker of this.fleet.all()) {
      const last = worker.agent?.lastReport;
      // Reports the agent stream polled (sessions only) are folded in here, once.
      if (last && last.receivedAtMs > worker.status.lastStatusAtMs)
        this.ingest.report(worker, last.report, "periodic");
      if (this.agents.has(worker.id) || this.beams.has(worker.id)) {
        const cadence = this.cadenceOf(worker);
        targets.push({
          id: worker.id,
          watchers: cadence.watchers,
          nextDumpAtMs: cadence.nextDumpAtMs,
          worker,
        });
      } else if (worker.status.sessions.length > 0) this.stalls.judge(worker, now);
    }
    const picked = new Set<string>();
    for (const t of this.budget.pick(targets, now, elapsed)) {
      picked.add(t.id);
      this.cadenceOf(t.worker).nextDumpAtMs = t.nextDumpAtMs;
      void this.collectNow(t.worker, t.watchers > 0 ? "watch" : "periodic");
    }
    // Stall clocks run between dumps too.
    for (const t of targets)
      if (!picked.has(t.id) && t.worker.status.sessions.length > 0)
        this.stalls.judge(t.worker, now);
  }

  private cadenceOf(worker: TrackedWorker) {
    let cadence = this.cadence.get(worker);
    if (!cadence) {
      cadence = { watchers: 0, nextDumpAtMs: 0 };
      this.cadence.set(worker, cadence);
    }
    return cadence;
  }
}
