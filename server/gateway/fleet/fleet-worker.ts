import type {
  Announce,
  FinishedSession,
  StatusReport,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import type { SessionView, ThreadDumpView } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { ThreadMotionTracker } from "../status/thread-motion.js";
import { LivenessTracker } from "./liveness.js";
import { SampleRing } from "./sample-ring.js";
import { createRedactor } from "../status/redact.js";

export type WorkerKind = "spark" | "beam" | "agent";

/** What the gateway knows about one worker, keyed by its id. */
export interface FleetWorker {
  id: string;
  kind: WorkerKind;
  /** host:port the gateway probes, or the peer address. */
  address: string;
  liveness: LivenessTracker;
  /** Heartbeat round trips in milliseconds. */
  roundTrips: SampleRing;
  /** Latest HeartbeatResponse metrics. */
  metrics: Record<string, string>;
  /** Numeric heartbeat metrics over time, same retention as round trips. */
  metricSeries: Map<string, SampleRing>;
  /** The latest status text a Beam harness sent, raw and size-capped. */
  beamStatus?: BeamStatusSnapshot;
  /** Present once a Stallwatch agent has announced this worker. */
  agent?: AgentLink;
  /** Sessions, finished sessions and thread dumps, from the agent or Beam path. */
  status: WorkerStatusState;
}

export interface WorkerStatusState {
  /** Live sessions, judged for stalls. */
  sessions: SessionView[];
  finished: FinishedSession[];
  latestDump?: ThreadDumpView;
  /** When sessions or a dump last arrived; 0 = never. */
  lastStatusAtMs: number;
  motion: ThreadMotionTracker;
  /** Dashboard views watching this worker right now: collect more often. */
  watchers: number;
  nextDumpAtMs: number;
}

/** The agent path of a worker, judged separately from its Manage heartbeats. */
export interface AgentLink {
  announce: Announce;
  connected: boolean;
  /** When the stream opened, or closed when `connected` is false. */
  sinceMs: number;
  /** Why the stream closed, when it did. */
  closedReason: string;
  lastReport?: { receivedAtMs: number; rttMs: number; report: StatusReport };
}

export interface BeamStatusSnapshot {
  receivedAtMs: number;
  /** Exactly as received, cut at the size cap. */
  raw: string;
  truncated: boolean;
  /** The harness's `error` field, when it could not produce a status. */
  error: string;
  /** What the text was parsed into, once, when it arrived (server/gateway/status/beam-text). */
  format?: string;
  bundles?: {
    instructionId: string;
    descriptorId: string;
    trackedThread: string;
    threadId: string;
    timeSinceTransitionSec: number;
  }[];
  unparsed?: string;
  unparsedLines?: number;
}

export interface FleetWorkerOptions {
  unresponsiveAfter: number;
  /** A stack unchanged this long is "not moving" (default 10 s). */
  notMovingMs?: number;
  /** Samples kept per worker (retention / interval). */
  sampleCapacity: number;
}

/** Worker options from the gateway's timing settings (shared by every way a worker joins). */
export function fleetWorkerOptions(timing: {
  unresponsiveAfter: number;
  retentionMs: number;
  intervalMs: number;
  notMovingMs?: number;
}): FleetWorkerOptions {
  return {
    unresponsiveAfter: timing.unresponsiveAfter,
    sampleCapacity: Math.ceil(timing.retentionMs / timing.intervalMs),
    ...(timing.notMovingMs !== undefined ? { notMovingMs: timing.notMovingMs } : {}),
  };
}

export function createFleetWorker(
  id: string,
  kind: WorkerKind,
  address: string,
  opts: FleetWorkerOptions,
  nowMs: number,
): FleetWorker {
  return {
    id,
    kind,
    address,
    liveness: new LivenessTracker(opts.unresponsiveAfter, nowMs),
    roundTrips: new SampleRing(opts.sampleCapacity),
    metrics: {},
    metricSeries: new Map(),
    status: {
      sessions: [],
      finished: [],
      lastStatusAtMs: 0,
      motion: new ThreadMotionTracker(opts.notMovingMs ?? 10_000),
      watchers: 0,
      nextDumpAtMs: 0,
    },
  };
}

/** Metric names tracked as series per worker: the names come from the worker, so they are capped. */
const MAX_METRIC_SERIES = 32;
/** Longest metric value kept: worker text is untrusted. */
const MAX_METRIC_TEXT = 200;

/**
 * Redacts metric text that could carry a secret. Numbers cannot, and they are
 * nearly every value on this hot path (one call per metric per beat), so only
 * non-numeric values and unusual names pay for the regexes.
 */
const redactMetricText = createRedactor();
const PLAIN_NAME = /^[\w.]{1,100}$/;

/** Records a heartbeat's metrics: the latest map (capped, redacted), and numeric values as series. */
export function recordMetrics(
  worker: FleetWorker,
  metrics: Record<string, string>,
  nowMs: number,
): void {
  const kept: Record<string, string> = {};
  let count = 0;
  for (const [name, value] of Object.entries(metrics)) {
    if (count++ >= MAX_METRIC_SERIES) break;
    const clipped = name.slice(0, 100);
    const key = PLAIN_NAME.test(clipped) ? clipped : redactMetricText(clipped);
    const number = Number(value);
    const numeric = value !== "" && Number.isFinite(number);
    const text = value.length > MAX_METRIC_TEXT ? `${value.slice(0, MAX_METRIC_TEXT)}…` : value;
    kept[key] = numeric ? text : redactMetricText(text);
    if (!numeric) continue;
    let ring = worker.metricSeries.get(key);
    if (!ring) {
      ring = new SampleRing(worker.roundTrips.capacity);
      worker.metricSeries.set(key, ring);
    }
    ring.push(nowMs, number);
  }
  worker.metrics = kept;
}
