import type { SessionView } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { createRedactor } from "../redaction/redact.js";
import type {
  AgentLink,
  BeamStatusSnapshot,
  TrackedWorker,
  WorkerKind,
  WorkerStatus,
} from "./tracked-worker.js";
import { LivenessTracker } from "./liveness.js";
import { SampleRing } from "./sample-ring.js";

/**
 * A worker as the fleet holds it: the same shape as {@link TrackedWorker}, but
 * writable. It never leaves fleet/ under this type: everyone else gets the
 * read-only view and changes it through the fleet's operations.
 */
export interface WorkerRecord extends TrackedWorker {
  kind: WorkerKind;
  address: string;
  liveness: LivenessTracker;
  roundTrips: SampleRing;
  missedBeats?: SampleRing;
  metrics: Record<string, string>;
  metricSeries: Map<string, SampleRing>;
  beamStatus?: BeamStatusSnapshot;
  agent?: AgentLink;
  status: WorkerStatus & { sessions: SessionView[] };
}

export interface RecordOptions {
  /** Misses in a row before a worker is unresponsive. */
  unresponsiveAfter: number;
  /** Samples kept per series (retention / heartbeat interval). */
  sampleCapacity: number;
}

export function createWorkerRecord(
  id: string,
  kind: WorkerKind,
  address: string,
  opts: RecordOptions,
  nowMs: number,
): WorkerRecord {
  return {
    id,
    kind,
    address,
    liveness: new LivenessTracker(opts.unresponsiveAfter, nowMs),
    roundTrips: new SampleRing(opts.sampleCapacity),
    metrics: {},
    metricSeries: new Map(),
    status: { sessions: [], finished: [], lastStatusAtMs: 0 },
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

/** Keeps a heartbeat's metrics: the latest map (capped, redacted), and numeric values as series. */
export function keepMetrics(
  worker: WorkerRecord,
  metrics: Readonly<Record<string, string>>,
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
