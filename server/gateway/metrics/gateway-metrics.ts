import { monitorEventLoopDelay } from "node:perf_hooks";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { ActionKind, ActionStatus, type Action } from "../../../gen/stallwatch/v1/control_pb.js";
import type { Fleet } from "../fleet/fleet.js";
import type { LivenessState } from "../fleet/liveness.js";

export type BeatResult = "ok" | "missed" | "gone";

const LIVENESS_STATES: LivenessState[] = [
  "pending",
  "healthy",
  "late",
  "unresponsive",
  "gone",
  "draining",
  "exited",
];

/**
 * The gateway's Prometheus metrics. Cardinality is bounded by design: no
 * per-worker labels (a 10,000-worker fleet would make scrapes block the event
 * loop; see shared/notes/measured-here.md), labels only from closed sets.
 *
 * prom-client's default metrics are not registered: three of its gauges end
 * in `_total`, which `promtool check metrics` rejects. The process figures an
 * operator needs are registered here under correct names instead.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly roundTrip: Histogram;
  private readonly beats: Counter<"result">;
  private readonly actions: Counter<"kind" | "result">;
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  // The people-facing edge: snapshot budget and refused browser requests.
  private readonly snapshotsCreated = new Counter({
    name: "stallwatch_snapshots_created_total",
    help: "Snapshots created.",
    registers: [this.registry],
  });
  private readonly snapshotsRefused = new Counter<"scope">({
    name: "stallwatch_snapshots_refused_total",
    help: "CreateSnapshot calls refused by the rate limit, by scope (caller, overall).",
    labelNames: ["scope"],
    registers: [this.registry],
  });
  private readonly snapshotLimit = new Gauge<"scope">({
    name: "stallwatch_snapshot_rate_limit_per_minute",
    help: "Snapshots allowed per minute, by scope (caller, overall).",
    labelNames: ["scope"],
    registers: [this.registry],
  });
  private readonly httpRefused = new Counter<"reason">({
    name: "stallwatch_http_refused_total",
    help: "HTTP requests refused at the edge, by reason (host, origin).",
    labelNames: ["reason"],
    registers: [this.registry],
  });
  private readonly identityIgnored = new Counter({
    name: "stallwatch_identity_header_ignored_total",
    help: "Requests whose identity header was dropped: the peer is not a --trusted-proxy.",
    registers: [this.registry],
  });
  private readonly refusals: Counter<"reason">;
  private readonly cutStrings: Counter;
  private readonly droppedItems: Counter;

  constructor(fleet: Fleet, stalledCount: () => number) {
    this.loopDelay.enable();
    // Refusal series exist from the start, so "none yet" reads as 0, not absent.
    for (const scope of ["caller", "overall"]) this.snapshotsRefused.inc({ scope }, 0);
    for (const reason of ["host", "origin"]) this.httpRefused.inc({ reason }, 0);
    const registers = [this.registry];
    this.roundTrip = new Histogram({
      name: "stallwatch_heartbeat_round_trip_seconds",
      help: "Round trip of answered heartbeats and Beam status requests, all workers.",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.beats = new Counter({
      name: "stallwatch_heartbeats_total",
      help: "Heartbeats sent, by result (ok, missed, gone).",
      labelNames: ["result"],
      registers,
    });
    this.actions = new Counter({
      name: "stallwatch_actions_total",
      help: "Operator actions that ended, by kind and result.",
      labelNames: ["kind", "result"],
      registers,
    });
    this.refusals = new Counter({
      name: "stallwatch_agent_refusals_total",
      help: "Agent streams refused or cut off, by reason (token, not_loopback, announce, address, id_in_use, kind, cap_total, cap_connection, rate, unsolicited, oversized, no_answer).",
      labelNames: ["reason"],
      registers,
    });
    this.cutStrings = new Counter({
      name: "stallwatch_worker_strings_truncated_total",
      help: "Strings from workers cut at their size cap at the ingest boundary.",
      registers,
    });
    this.droppedItems = new Counter({
      name: "stallwatch_worker_items_dropped_total",
      help: "Sessions, threads, frames and context entries from workers dropped over their count caps.",
      registers,
    });
    new Gauge({
      name: "stallwatch_workers",
      help: "Workers in the fleet, by liveness.",
      labelNames: ["liveness"],
      registers,
      collect() {
        const counts = new Map<LivenessState, number>(LIVENESS_STATES.map((s) => [s, 0]));
        for (const w of fleet.all()) {
          const state = w.liveness.current.state;
          counts.set(state, (counts.get(state) ?? 0) + 1);
        }
        for (const [state, n] of counts) this.set({ liveness: state }, n);
      },
    });
    new Gauge({
      name: "stallwatch_stalled_sessions",
      help: "Sessions currently judged stalled, fleet-wide.",
      registers,
      collect() {
        this.set(stalledCount());
      },
    });
    new Gauge({
      name: "process_resident_memory_bytes",
      help: "Resident memory of the gateway process.",
      registers,
      collect() {
        this.set(process.memoryUsage().rss);
      },
    });
    new Counter({
      name: "process_cpu_seconds_total",
      help: "CPU time used by the gateway process (user + system).",
      registers,
      collect() {
        const { user, system } = process.cpuUsage();
        this.reset();
        this.inc((user + system) / 1e6);
      },
    });
    const loopDelay = this.loopDelay;
    new Gauge({
      name: "nodejs_eventloop_delay_p99_seconds",
      help: "99th percentile event-loop delay since the previous scrape.",
      registers,
      collect() {
        this.set(loopDelay.percentile(99) / 1e9);
      },
    });
    new Gauge({
      name: "nodejs_eventloop_delay_max_seconds",
      help: "Longest event-loop delay since the previous scrape: one stall that p99 hides.",
      registers,
      collect() {
        this.set(loopDelay.max / 1e9);
        // Registered after the p99 gauge, so both read the same window before it resets.
        loopDelay.reset();
      },
    });
  }

  beat(result: BeatResult, rttMs?: number): void {
    this.beats.inc({ result });
    if (result === "ok" && rttMs !== undefined) this.roundTrip.observe(rttMs / 1000);
  }

  agentRefused(reason: string): void {
    this.refusals.inc({ reason });
  }

  workerTextCut(stats: { truncatedStrings: number; droppedItems: number }): void {
    if (stats.truncatedStrings > 0) this.cutStrings.inc(stats.truncatedStrings);
    if (stats.droppedItems > 0) this.droppedItems.inc(stats.droppedItems);
  }

  actionEnded(action: Action): void {
    this.actions.inc({
      kind: ActionKind[action.kind].toLowerCase(),
      result: ActionStatus[action.status].toLowerCase(),
    });
  }

  snapshotRateLimits(perCallerPerMinute: number, totalPerMinute: number): void {
    this.snapshotLimit.set({ scope: "caller" }, perCallerPerMinute);
    this.snapshotLimit.set({ scope: "overall" }, totalPerMinute);
  }

  snapshotCreated(): void {
    this.snapshotsCreated.inc();
  }

  snapshotRefused(scope: "caller" | "overall"): void {
    this.snapshotsRefused.inc({ scope });
  }

  httpRequestRefused(reason: "host" | "origin"): void {
    this.httpRefused.inc({ reason });
  }

  identityHeaderIgnored(): void {
    this.identityIgnored.inc();
  }

  close(): void {
    this.loopDelay.disable();
  }
}
