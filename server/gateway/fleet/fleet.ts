import type { Announce, StatusReport } from "../../../gen/stallwatch/v1/agent_pb.js";
import type { ThreadDumpView } from "../../../gen/stallwatch/v1/fleet_pb.js";
import type { Clock } from "../../shared/clock/clock.js";
import type { Logger } from "../../shared/logging/logger.js";
import type { EventLog } from "../events/event-log.js";
import { ChangeFeed, type FleetListener } from "./change-feed.js";
import type {
  EvidenceSource,
  TrackedWorker,
  SessionVerdict,
  StatusArrival,
  WorkerKind,
} from "./tracked-worker.js";
import type { FleetReader } from "./fleet-reader.js";
import type { LivenessChange, LivenessTracker } from "./liveness.js";
import { createWorkerRecord, keepMetrics, type WorkerRecord } from "./worker-record.js";
import { SampleRing } from "./sample-ring.js";

export interface FleetOptions {
  clock: Clock;
  /** Watchers get at most one batch of changes per this interval (default 250 ms). */
  publishIntervalMs?: number;
  /** Misses in a row before a worker is unresponsive (default 3). */
  unresponsiveAfter?: number;
  /** Samples kept per series: retention / heartbeat interval (default 900: 15 min at 1 Hz). */
  sampleCapacity?: number;
  /** Where liveness changes are recorded (none: not recorded, e.g. in unit tests). */
  events?: EventLog;
  log?: Logger;
}

/**
 * The fleet: every worker the gateway knows, and the only place a worker
 * changes. Heartbeats, agent and Beam streams, status collection and
 * actions call the named operations below; each one changes the worker,
 * tells watchers in the next batch, and for liveness logs the change and
 * records it as an event (a "late" one with a thread dump as evidence).
 */
export class Fleet implements FleetReader {
  private readonly feed: ChangeFeed<WorkerRecord>;
  private readonly clock: Clock;
  private evidence: EvidenceSource | undefined;

  constructor(private readonly opts: FleetOptions) {
    this.clock = opts.clock;
    this.feed = new ChangeFeed(this.clock, opts.publishIntervalMs ?? 250);
  }

  get size(): number {
    return this.feed.size;
  }

  get(id: string): TrackedWorker | undefined {
    return this.feed.get(id);
  }

  all(): TrackedWorker[] {
    return this.feed.all();
  }

  /** Listens to batches of changes; returns the unsubscribe function. */
  subscribe(listener: FleetListener): () => void {
    return this.feed.subscribe(listener);
  }

  /** Publishes pending changes now (also used on shutdown and in tests). */
  flush(): void {
    this.feed.flush();
  }

  close(): void {
    this.feed.close();
  }

  /** Where "late" and "unresponsive" events get their evidence dump (the status collector). */
  takeEvidenceFrom(source: EvidenceSource): void {
    this.evidence = source;
  }

  // Membership

  /** The worker under `id`, created as `kind` at `address` when there is none. */
  enroll(id: string, kind: WorkerKind, address: string): TrackedWorker {
    const existing = this.feed.get(id);
    if (existing) return existing;
    const worker = createWorkerRecord(
      id,
      kind,
      address,
      {
        unresponsiveAfter: this.opts.unresponsiveAfter ?? 3,
        sampleCapacity: this.opts.sampleCapacity ?? 900,
      },
      this.clock.now(),
    );
    this.feed.add(worker);
    return worker;
  }

  /** Removes the worker; watchers see it go. */
  forget(id: string): void {
    this.feed.remove(id);
  }

  /** The worker is now reached at `address` (a new port, a peer that reconnected). */
  moveTo(worker: TrackedWorker, address: string): void {
    const record = this.record(worker);
    if (!record || record.address === address) return;
    record.address = address;
    this.feed.changed(record.id);
  }

  // Liveness

  /** A heartbeat (Manage call, agent status round trip, HTTP/2 PING) was answered. */
  beatAnswered(
    worker: TrackedWorker,
    atMs: number,
    sample: { rttMs?: number; metrics?: Readonly<Record<string, string>> } = {},
  ): void {
    const record = this.record(worker);
    if (!record) return;
    if (sample.rttMs !== undefined) record.roundTrips.push(atMs, sample.rttMs);
    if (sample.metrics) keepMetrics(record, sample.metrics, atMs);
    this.livenessChanged(record, record.liveness.answered(atMs));
  }

  /** A heartbeat got no answer within its deadline, or an error status. */
  beatMissed(worker: TrackedWorker, atMs: number, reason: string): void {
    const record = this.record(worker);
    if (!record) return;
    // The chart marks these; inferring them from gaps between answered beats
    // marked answered beats too (the first on a connection carries no round
    // trip) and assumed the default interval.
    (record.missedBeats ??= new SampleRing(record.roundTrips.capacity)).push(atMs, 1);
    this.livenessChanged(record, record.liveness.missed(atMs, reason));
  }

  /** The connection was refused, reset or closed, or the peer is not a worker. */
  connectionLost(worker: TrackedWorker, atMs: number, reason: string): void {
    this.moveLiveness(worker, (liveness) => liveness.gone(atMs, reason));
  }

  /** The worker ended its own connection cleanly. */
  exited(worker: TrackedWorker, atMs: number, reason: string): void {
    this.moveLiveness(worker, (liveness) => liveness.exited(atMs, reason));
  }

  /** An operator asked the worker to drain or cancel all. */
  draining(worker: TrackedWorker, atMs: number, reason: string): void {
    this.moveLiveness(worker, (liveness) => liveness.draining(atMs, reason));
  }

  // The agent link

  /** An agent announced this worker: it is an agent worker from now on. */
  agentConnected(worker: TrackedWorker, announce: Announce): void {
    const record = this.record(worker);
    if (!record) return;
    record.kind = "agent";
    record.agent = { announce, connected: true, sinceMs: this.clock.now(), closedReason: "" };
    this.feed.changed(record.id);
  }

  /** The agent answered a status request (sessions only, no threads). */
  agentReported(worker: TrackedWorker, report: StatusReport, rttMs: number, atMs: number): void {
    const record = this.record(worker);
    if (!record?.agent) return;
    record.agent.lastReport = { receivedAtMs: atMs, rttMs, report };
    this.feed.changed(record.id);
  }

  /** The agent's stream ended: what it last reported can no longer be vouched for. */
  agentDisconnected(worker: TrackedWorker, reason: string): void {
    const record = this.record(worker);
    if (!record) return;
    if (record.agent) {
      record.agent.connected = false;
      record.agent.sinceMs = this.clock.now();
      record.agent.closedReason = reason;
    }
    record.status.sessions = [];
    this.feed.changed(record.id);
  }

  // Status

  /** Sessions (and a dump, finished sessions, Beam text when present) arrived. */
  statusArrived(worker: TrackedWorker, status: StatusArrival): void {
    const record = this.record(worker);
    if (!record) return;
    record.status.lastStatusAtMs = status.atMs;
    record.status.sessions = status.sessions;
    if (status.finished) record.status.finished = status.finished;
    if (status.dump) record.status.latestDump = status.dump;
    if (status.beamStatus) record.beamStatus = status.beamStatus;
    this.feed.changed(record.id);
  }

  /** The stall rules' verdicts on the worker's live sessions, by session id. */
  sessionsJudged(worker: TrackedWorker, verdicts: ReadonlyMap<string, SessionVerdict>): void {
    const record = this.record(worker);
    if (!record) return;
    let flipped = false;
    for (const view of record.status.sessions) {
      const verdict = view.session && verdicts.get(view.session.sessionId);
      if (!verdict) continue;
      if (view.stalled !== verdict.stalled) flipped = true;
      view.stalled = verdict.stalled;
      view.stallReason = verdict.reason;
      view.stalledSinceMs = BigInt(Math.round(verdict.sinceMs));
      view.lastProgressAtMs = BigInt(Math.round(verdict.lastProgressAtMs));
    }
    if (flipped) this.feed.changed(record.id);
  }

  /** The record behind a view, if it is still the fleet's (not removed and re-added meanwhile). */
  private record(worker: TrackedWorker): WorkerRecord | undefined {
    const record = this.feed.get(worker.id);
    return record === worker ? record : undefined;
  }

  private moveLiveness(
    worker: TrackedWorker,
    move: (liveness: LivenessTracker) => LivenessChange | undefined,
  ): void {
    const record = this.record(worker);
    if (record) this.livenessChanged(record, move(record.liveness));
  }

  private livenessChanged(worker: WorkerRecord, change: LivenessChange | undefined): void {
    this.feed.changed(worker.id);
    if (!change) return;
    this.opts.log?.[change.to === "healthy" ? "info" : "warn"](
      { worker: worker.id, from: change.from, to: change.to, reason: change.reason },
      "liveness changed",
    );
    const events = this.opts.events;
    if (!events) return;
    const record = (evidence?: ThreadDumpView) =>
      events.record({
        workerId: worker.id,
        kind: "liveness",
        summary: `${worker.id} ${change.to}: ${change.reason}`,
        fromState: change.from,
        toState: change.to,
        atMs: change.atMs,
        ...(evidence ? { evidence } : {}),
      });
    // The cause of a heartbeat gap is captured while it happens.
    if (this.evidence && (change.to === "late" || change.to === "unresponsive"))
      void this.evidence(worker, change.to).then(record, () => record());
    else record();
  }
}
