import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { ActionKind, ActionStatus, type Action } from "../../../gen/stallwatch/v1/control_pb.js";
import type { FleetReader } from "../fleet/fleet-reader.js";
import type { LivenessState } from "../fleet/liveness.js";
import { closedSetCounter, scrapedGauge } from "./metric-kit.js";
import { registerProcessMetrics } from "./process-metrics.js";

export type BeatResult = "ok" | "missed" | "gone";

const SNAPSHOT_SCOPES = ["caller", "overall"] as const;
const HTTP_REFUSALS = ["host", "origin"] as const;

const LIVENESS_STATES: LivenessState[] = [
  "pending",
  "healthy",
  "late",
  "unresponsive",
  "gone",
  "draining",
  "exited",
];

function actionLabels(kind: ActionKind, status: ActionStatus) {
  return { kind: ActionKind[kind].toLowerCase(), result: ActionStatus[status].toLowerCase() };
}

/**
 * The gateway's Prometheus metrics. Cardinality is bounded by design: no
 * per-worker labels (a 10,000-worker fleet would make scrapes block the event
 * loop; README "Gateway", metrics), labels only from closed sets.
 * Process figures: process-metrics.ts.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly registers = [this.registry];
  private readonly roundTrip = new Histogram({
    name: "stallwatch_heartbeat_round_trip_seconds",
    help: "Round trip of answered heartbeats and Beam status requests, all workers.",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: this.registers,
  });
  private readonly beats = new Counter<"result">({
    name: "stallwatch_heartbeats_total",
    help: "Heartbeats sent, by result (ok, missed, gone).",
    labelNames: ["result"],
    registers: this.registers,
  });
  private readonly actions = new Counter<"kind" | "result">({
    name: "stallwatch_actions_total",
    help: "Operator actions that ended, by kind and result.",
    labelNames: ["kind", "result"],
    registers: this.registers,
  });
  // The people-facing edge: snapshot budget and refused browser requests.
  private readonly snapshotsCreated = new Counter({
    name: "stallwatch_snapshots_created_total",
    help: "Snapshots created.",
    registers: this.registers,
  });
  private readonly snapshotsRefused = closedSetCounter(this.registry, {
    name: "stallwatch_snapshots_refused_total",
    help: "CreateSnapshot calls refused by the rate limit, by scope (caller, overall).",
    label: "scope",
    values: SNAPSHOT_SCOPES,
  });
  private readonly snapshotLimit = new Gauge<"scope">({
    name: "stallwatch_snapshot_rate_limit_per_minute",
    help: "Snapshots allowed per minute, by scope (caller, overall).",
    labelNames: ["scope"],
    registers: this.registers,
  });
  private readonly httpRefused = closedSetCounter(this.registry, {
    name: "stallwatch_http_refused_total",
    help: "HTTP requests refused at the edge, by reason (host, origin).",
    label: "reason",
    values: HTTP_REFUSALS,
  });
  private readonly identityIgnored = new Counter({
    name: "stallwatch_identity_header_ignored_total",
    help: "Requests whose identity header was dropped: the peer is not a --trusted-proxy.",
    registers: this.registers,
  });
  // The worker-facing edge: refused agents, and what the ingest caps cut.
  private readonly refusals = new Counter<"reason">({
    name: "stallwatch_agent_refusals_total",
    help: "Agent streams refused or cut off, by reason (token, not_loopback, announce, address, id_in_use, kind, cap_total, cap_connection, rate, memory, busy, unsolicited, oversized, no_answer).",
    labelNames: ["reason"],
    registers: this.registers,
  });
  private readonly connectionsRefused = new Counter({
    name: "stallwatch_worker_connections_refused_total",
    help: "Connections to --grpc closed on accept because their address already held --max-worker-connections-per-address.",
    registers: this.registers,
  });
  private readonly cutStrings = new Counter({
    name: "stallwatch_worker_strings_truncated_total",
    help: "Strings from workers cut at their size cap at the ingest boundary.",
    registers: this.registers,
  });
  private readonly droppedItems = new Counter({
    name: "stallwatch_worker_items_dropped_total",
    help: "Sessions, threads, frames and context entries from workers dropped over their count caps.",
    registers: this.registers,
  });
  private readonly stopProcessMetrics: () => void;

  constructor(fleet: FleetReader, stalledCount: () => number) {
    // Every kind and outcome at 0 from the start: "none yet" reads 0, not absent.
    for (const kind of [
      ActionKind.CANCEL_SESSION,
      ActionKind.DRAIN_WORKER,
      ActionKind.CANCEL_WORKER,
    ])
      for (const status of [ActionStatus.SUCCEEDED, ActionStatus.FAILED, ActionStatus.INTERRUPTED])
        this.actions.inc(actionLabels(kind, status), 0);
    new Gauge({
      name: "stallwatch_workers",
      help: "Workers in the fleet, by liveness.",
      labelNames: ["liveness"],
      registers: this.registers,
      collect() {
        const counts = new Map<LivenessState, number>(LIVENESS_STATES.map((s) => [s, 0]));
        for (const w of fleet.all()) {
          const state = w.liveness.current.state;
          counts.set(state, (counts.get(state) ?? 0) + 1);
        }
        for (const [state, n] of counts) this.set({ liveness: state }, n);
      },
    });
    scrapedGauge(
      this.registry,
      {
        name: "stallwatch_stalled_sessions",
        help: "Sessions currently judged stalled, fleet-wide.",
      },
      stalledCount,
    );
    this.stopProcessMetrics = registerProcessMetrics(this.registry);
  }

  beat(result: BeatResult, rttMs?: number): void {
    this.beats.inc({ result });
    if (result === "ok" && rttMs !== undefined) this.roundTrip.observe(rttMs / 1000);
  }

  agentRefused(reason: string): void {
    this.refusals.inc({ reason });
  }

  workerConnectionRefused(): void {
    this.connectionsRefused.inc();
  }

  workerTextCut(stats: { truncatedStrings: number; droppedItems: number }): void {
    if (stats.truncatedStrings > 0) this.cutStrings.inc(stats.truncatedStrings);
    if (stats.droppedItems > 0) this.droppedItems.inc(stats.droppedItems);
  }

  actionEnded(action: Action): void {
    this.actions.inc(actionLabels(action.kind, action.status));
  }

  snapshotRateLimits(perCallerPerMinute: number, totalPerMinute: number): void {
    this.snapshotLimit.set({ scope: "caller" }, perCallerPerMinute);
    this.snapshotLimit.set({ scope: "overall" }, totalPerMinute);
  }

  snapshotCreated(): void {
    this.snapshotsCreated.inc();
  }

  snapshotRefused(scope: (typeof SNAPSHOT_SCOPES)[number]): void {
    this.snapshotsRefused.inc({ scope });
  }

  httpRequestRefused(reason: (typeof HTTP_REFUSALS)[number]): void {
    this.httpRefused.inc({ reason });
  }

  identityHeaderIgnored(): void {
    this.identityIgnored.inc();
  }

  close(): void {
    this.stopProcessMetrics();
  }
}
