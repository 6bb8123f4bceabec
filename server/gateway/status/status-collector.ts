import { create } from "@bufbuild/protobuf";
import { SessionOutcome, type StatusReport } from "../../../gen/stallwatch/v1/agent_pb.js";
import {
  FleetTotalsSchema,
  SessionViewSchema,
  type FleetTotals,
  type SessionView,
  type ThreadDumpView,
} from "../../../gen/stallwatch/v1/fleet_pb.js";
import type { AgentChannels } from "../agent-endpoint/agent-service.js";
import type { BeamMetrics } from "../beam-endpoint/beam-metrics.js";
import type { BeamAnswer, BeamChannels } from "../beam-endpoint/beam-status-service.js";
import type { BeamParseLimits } from "./beam-text/beam-types.js";
import type { EventLog } from "../events/event-log.js";
import type { Fleet } from "../fleet/fleet.js";
import type { FleetWorker } from "../fleet/fleet-worker.js";
import type { LivenessChange } from "../fleet/liveness.js";
import type { Logger } from "../../shared/logging/logger.js";
import { judgeSession, type StallThresholds } from "../stalls/stall-rules.js";
import { ingestBeamAnswer } from "./beam-ingest.js";
import { DumpBudget } from "./dump-scheduler.js";
import { agentDumpView } from "./dump-view.js";
import type { Redactor } from "./redact.js";

export interface StatusCollectorOptions {
  /** Dumps for every worker this often (default 10 s). */
  dumpIntervalMs: number;
  /** Dumps for a worker someone is watching (1-5 s; default 2 s). */
  watchedIntervalMs: number;
  /** Deadline on each status request. */
  deadlineMs: number;
  /** The dump budget never drops below this many per second (default 50). */
  minDumpsPerSecond?: number;
  /** Nor rises above this (default 1,000): diagnostics must never cause the outage. */
  maxDumpsPerSecond: number;
  /** Caps applied when parsing Beam status text. */
  beamLimits?: BeamParseLimits;
  beamMetrics?: BeamMetrics;
  thresholds: StallThresholds;
  redact: Redactor;
  log: Logger;
}

/**
 * Collects sessions and thread dumps from agents and Beam harnesses, judges
 * stalls, and turns transitions into events with their evidence. When a
 * worker turns late, a dump is taken at once and pinned to that event, so the
 * cause of a heartbeat gap is captured while it happens.
 */
export class StatusCollector {
  private timer: NodeJS.Timeout | undefined;
  private readonly budget: DumpBudget;
  private lastTickMs = Date.now();
  private readonly inFlight = new Set<string>();
  private readonly stalled = new Map<string, Map<string, number>>();
  private readonly fleetTotals: FleetTotals = create(FleetTotalsSchema);
  private readonly countedSessions = new Map<string, Set<string>>();

  constructor(
    private readonly fleet: Fleet,
    private readonly agents: AgentChannels,
    private readonly events: EventLog,
    private readonly opts: StatusCollectorOptions,
    private readonly beams: BeamChannels = new Map(),
  ) {
    this.budget = new DumpBudget({
      intervalMs: opts.dumpIntervalMs,
      watchedIntervalMs: opts.watchedIntervalMs,
      minPerSecond: opts.minDumpsPerSecond ?? 50,
      maxPerSecond: opts.maxDumpsPerSecond,
    });
  }

  /** The dump budget computed at the last tick, per second. */
  get dumpBudgetPerSecond(): number {
    return this.budget.perSecond;
  }

  start(): void {
    // A quarter second, so watched workers keep a 1 s cadence.
    this.timer = setInterval(() => this.tick(), 250);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Counts a dashboard view watching `workerId`; call the result when it closes. */
  watch(workerId: string): () => void {
    const worker = this.fleet.get(workerId);
    if (!worker) return () => undefined;
    worker.status.watchers += 1;
    worker.status.nextDumpAtMs = 0;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      worker.status.watchers = Math.max(0, worker.status.watchers - 1);
    };
  }

  /** Takes a dump now (bounded by the deadline); undefined when the worker cannot give one. */
  async collectNow(worker: FleetWorker, trigger: string): Promise<ThreadDumpView | undefined> {
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
      return this.ingestReport(worker, report, trigger);
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

  /** Liveness changes become events; "late" waits (bounded) for its evidence dump. */
  onLivenessChange(worker: FleetWorker, change: LivenessChange): void {
    const record = (evidence?: ThreadDumpView) =>
      this.events.record({
        workerId: worker.id,
        kind: "liveness",
        summary: `${worker.id} ${change.to}: ${change.reason}`,
        fromState: change.from,
        toState: change.to,
        atMs: change.atMs,
        ...(evidence ? { evidence } : {}),
      });
    if (change.to === "late" || change.to === "unresponsive") {
      void this.collectNow(worker, change.to).then(record, () => record());
    } else record();
  }

  /** Fleet-wide sums over every finished session reported so far. */
  totals(): FleetTotals {
    return this.fleetTotals;
  }

  /** Sessions (and a dump, if present) from an agent report. */
  ingestReport(
    worker: FleetWorker,
    report: StatusReport,
    trigger: string,
  ): ThreadDumpView | undefined {
    const now = Date.now();
    worker.status.lastStatusAtMs = now;
    worker.status.finished = report.finished;
    this.countFinished(worker.id, report.finished);
    worker.status.sessions = report.sessions.map((session) =>
      create(SessionViewSchema, { workerId: worker.id, session }),
    );
    if (report.dump) {
      worker.status.latestDump = agentDumpView(
        worker.id,
        report.dump,
        trigger,
        worker.status.motion,
        this.opts.redact,
      );
    }
    this.judge(worker, now);
    this.fleet.changed(worker.id);
    return worker.status.latestDump;
  }

  /** Every stalled session in the fleet, longest without progress first. */
  stalledSessions(): SessionView[] {
    const out: SessionView[] = [];
    for (const worker of this.fleet.all())
      for (const s of worker.status.sessions) if (s.stalled) out.push(s);
    return out.sort((a, b) => Number(a.lastProgressAtMs - b.lastProgressAtMs));
  }

  /** Adds sessions not counted before; agents repeat their recent ones in every report. */
  private countFinished(workerId: string, finished: StatusReport["finished"]): void {
    let seen = this.countedSessions.get(workerId);
    if (!seen) {
      seen = new Set();
      this.countedSessions.set(workerId, seen);
    }
    const t = this.fleetTotals;
    for (const f of finished) {
      if (seen.has(f.sessionId)) continue;
      seen.add(f.sessionId);
      if (f.outcome === SessionOutcome.FINISHED) t.sessionsFinished += 1n;
      else if (f.outcome === SessionOutcome.CANCELLED) t.sessionsCancelled += 1n;
      else t.sessionsFailed += 1n;
      const m = f.metrics;
      t.rowsIn += m?.rowsIn ?? 0n;
      t.rowsOut += m?.rowsOut ?? 0n;
      t.bytesIn += m?.bytesIn ?? 0n;
      t.bytesOut += m?.bytesOut ?? 0n;
      t.workWallNanos += m?.workWallNanos ?? 0n;
      t.workCpuNanos += m?.workCpuNanos ?? 0n;
    }
    // Bounded: an agent repeats at most its last 100, so older ids can go.
    if (seen.size > 1000)
      this.countedSessions.set(workerId, new Set(finished.map((f) => f.sessionId)));
  }

  private tick(): void {
    const now = Date.now();
    const elapsed = now - this.lastTickMs;
    this.lastTickMs = now;
    const targets: { id: string; watchers: number; nextDumpAtMs: number; worker: FleetWorker }[] =
      [];
    for (const worker of this.fleet.all()) {
      if (
        worker.agent?.lastReport &&
        worker.agent.lastReport.receivedAtMs > worker.status.lastStatusAtMs
      ) {
        this.ingestReport(worker, worker.agent.lastReport.report, "periodic");
      }
      if (this.agents.has(worker.id) || this.beams.has(worker.id))
        targets.push({
          id: worker.id,
          watchers: worker.status.watchers,
          nextDumpAtMs: worker.status.nextDumpAtMs,
          worker,
        });
      else if (worker.status.sessions.length > 0) this.judge(worker, now);
    }
    const picked = new Set<string>();
    for (const t of this.budget.pick(targets, now, elapsed)) {
      picked.add(t.id);
      t.worker.status.nextDumpAtMs = t.nextDumpAtMs;
      void this.collectNow(t.worker, t.watchers > 0 ? "watch" : "periodic");
    }
    // Stall clocks run between dumps too.
    for (const t of targets)
      if (!picked.has(t.id) && t.worker.status.sessions.length > 0) this.judge(t.worker, now);
  }

  /** One Beam answer, parsed once on arrival (called by the Beam status service). */
  ingestBeam(worker: FleetWorker, answer: BeamAnswer, trigger: string): ThreadDumpView {
    const got = ingestBeamAnswer(
      worker.id,
      answer,
      trigger,
      worker.status.motion,
      this.opts.redact,
      this.opts.beamLimits,
      this.opts.beamMetrics,
    );
    worker.beamStatus = got.snapshot;
    worker.status.latestDump = got.dump;
    worker.status.sessions = got.sessions;
    worker.status.lastStatusAtMs = answer.receivedAtMs;
    this.judge(worker, Date.now());
    this.fleet.changed(worker.id);
    return got.dump;
  }

  /** Applies the stall rules and records stalled / cleared transitions as events. */
  private judge(worker: FleetWorker, now: number): void {
    const before = this.stalled.get(worker.id) ?? new Map<string, number>();
    const after = new Map<string, number>();
    for (const view of worker.status.sessions) {
      const session = view.session;
      if (!session) continue;
      const verdict = judgeSession(session, now, this.opts.thresholds);
      view.stalled = verdict.stalled;
      view.stallReason = verdict.reason;
      view.stalledSinceMs = BigInt(Math.round(verdict.sinceMs));
      view.lastProgressAtMs = BigInt(Math.round(verdict.lastProgressAtMs));
      if (!verdict.stalled) continue;
      after.set(session.sessionId, verdict.sinceMs);
      if (!before.has(session.sessionId)) {
        this.events.record({
          workerId: worker.id,
          kind: "session_stalled",
          sessionId: session.sessionId,
          summary: `session ${session.sessionId} (${session.udfName || "udf"}) stalled: ${verdict.reason}`,
          ...(worker.status.latestDump ? { evidence: worker.status.latestDump } : {}),
        });
      }
    }
    for (const id of before.keys()) {
      if (!after.has(id)) {
        const still = worker.status.sessions.some((s) => s.session?.sessionId === id);
        this.events.record({
          workerId: worker.id,
          kind: "session_cleared",
          sessionId: id,
          summary: `session ${id} ${still ? "moving again" : "ended"}`,
        });
      }
    }
    if (after.size > 0 || before.size > 0) this.stalled.set(worker.id, after);
  }
}
