import type { StatusReport } from "../../../gen/stallwatch/v1/agent_pb.js";
import type {
  FleetTotals,
  SessionView,
  ThreadDumpView,
} from "../../../gen/stallwatch/v1/fleet_pb.js";
import type { Clock } from "../../shared/clock/clock.js";
import type { AgentChannels } from "../agent-endpoint/agent-options.js";
import type { BeamAnswer, BeamChannels } from "../beam-endpoint/beam-status-service.js";
import type { EventLog } from "../events/event-log.js";
import type { TrackedWorker } from "../fleet/tracked-worker.js";
import type { Fleet } from "../fleet/fleet.js";
import { StallWatch } from "../stalls/stall-watch.js";
import type { StallThresholds } from "../stalls/stall-rules.js";
import { SessionTotals } from "./session-totals.js";
import { StatusIngest, type StatusIngestOptions } from "./status-ingest.js";
import {
  StatusScheduler,
  type DumpBudgetUse,
  type StatusSchedulerOptions,
} from "./status-scheduler.js";

export interface StatusCollectorOptions extends StatusSchedulerOptions, StatusIngestOptions {
  thresholds: StallThresholds;
  clock: Clock;
}

/**
 * Sessions and thread dumps from agents and Beam harnesses, as one service:
 * when to ask (StatusScheduler), what an answer means (StatusIngest), which
 * sessions are stuck (StallWatch) and the fleet's finished-session totals.
 * It is also where a worker that turns late gets its evidence dump from.
 */
export class StatusCollector {
  private readonly scheduler: StatusScheduler;
  private readonly ingest: StatusIngest;
  private readonly stalls: StallWatch;
  private readonly sessionTotals = new SessionTotals();

  constructor(
    fleet: Fleet,
    agents: AgentChannels,
    events: EventLog,
    opts: StatusCollectorOptions,
    beams: BeamChannels = new Map(),
  ) {
    const clock = opts.clock;
    this.stalls = new StallWatch(fleet, events, opts.thresholds);
    this.ingest = new StatusIngest(fleet, this.stalls, this.sessionTotals, clock, opts);
    this.scheduler = new StatusScheduler(
      fleet,
      agents,
      beams,
      this.ingest,
      this.stalls,
      clock,
      opts,
    );
  }

  start(): void {
    this.scheduler.start();
  }

  stop(): void {
    this.scheduler.stop();
  }

  /** Counts a dashboard view watching `workerId`; call the result when it closes. */
  watch(workerId: string): () => void {
    return this.scheduler.watch(workerId);
  }

  /** Takes a dump now (bounded by the deadline); undefined when the worker cannot give one. */
  collectNow(worker: TrackedWorker, trigger: string): Promise<ThreadDumpView | undefined> {
    return this.scheduler.collectNow(worker, trigger);
  }

  /** Sessions (and a dump, if present) from an agent report. */
  ingestReport(worker: TrackedWorker, report: StatusReport, trigger: string) {
    return this.ingest.report(worker, report, trigger);
  }

  /** One Beam answer, parsed once on arrival (called by the Beam status service). */
  ingestBeam(worker: TrackedWorker, answer: BeamAnswer, trigger: string): ThreadDumpView {
    return this.ingest.beam(worker, answer, trigger);
  }

  /** The fleet-wide dump budget at the last tick (for /metrics). */
  dumpBudget(): DumpBudgetUse {
    return this.scheduler.budgetUse();
  }

  /** Every stalled session in the fleet, longest without progress first. */
  stalledSessions(): SessionView[] {
    return this.stalls.stalledSessions();
  }

  /** Fleet-wide sums over every finished session reported so far. */
  totals(): FleetTotals {
    return this.sessionTotals.current;
  }
}
