import { create } from "@bufbuild/protobuf";
import type { AuditRecord } from "../../../gen/stallwatch/v1/control_pb.js";
import type { WorkerDetail } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { SnapshotSchema, type Snapshot } from "../../../gen/stallwatch/v1/snapshot_pb.js";
import type { EventLog } from "../events/event-log.js";
import type { Fleet } from "../fleet/fleet.js";
import type { FleetWorker } from "../fleet/fleet-worker.js";
import { toWorkerDetailWithoutSeries, toWorkerMessage } from "../fleet/worker-message.js";
import type { StatusCollector } from "../status/status-collector.js";
import { EVENTS_PER_WORKER, recentEventsByWorker } from "./recent-events.js";
import { ByteWriter } from "./series-pack.js";
import { unpackWorkerSeries, packWorkerSeries } from "./worker-series.js";

export interface SnapshotScope {
  id: string;
  createdBy: string;
  /** Empty = the whole fleet. */
  workerId: string;
  note: string;
  retentionMs: number;
  nowMs: number;
}

/**
 * A snapshot whose details have no series yet: each detail's series are a
 * packed blob (worker-series.ts) in `series`, which the codec stores as is.
 */
export interface CapturedSnapshot {
  snapshot: Snapshot;
  series: Map<WorkerDetail, Uint8Array>;
}

/** Longest stretch of series packing before letting other callbacks run. */
const SLICE_MS = 8;

const pause = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Everything but the series, in one synchronous pass: the moment the
 * snapshot shows (liveness, sessions, dumps, events, audit).
 */
function captureState(
  scope: SnapshotScope,
  fleet: Fleet,
  events: EventLog,
  collector: StatusCollector,
  audit: AuditRecord[],
): { snapshot: Snapshot; workers: FleetWorker[] } {
  const workers = scope.workerId
    ? [fleet.get(scope.workerId)].filter((w) => w !== undefined)
    : fleet.all();
  const inScope = new Set(workers.map((w) => w.id));
  const recent = recentEventsByWorker(events, inScope, EVENTS_PER_WORKER);
  const messages = workers.map(toWorkerMessage);
  const snapshot = create(SnapshotSchema, {
    info: {
      id: scope.id,
      createdAtMs: BigInt(scope.nowMs),
      createdBy: scope.createdBy,
      workerId: scope.workerId,
      note: scope.note,
      expiresAtMs: BigInt(scope.nowMs + scope.retentionMs),
      workerCount: workers.length,
    },
    workers: messages,
    // One message per worker, shared by the list and the detail (the codec encodes it once).
    details: workers.map((w, i) =>
      toWorkerDetailWithoutSeries(w, recent.get(w.id) ?? [], messages[i]),
    ),
    stalled: collector.stalledSessions().filter((s) => inScope.has(s.workerId)),
    events: events
      .list({ limit: 500 })
      .filter((e) => !scope.workerId || e.workerId === scope.workerId),
    audit: audit.filter((a) => !scope.workerId || a.workerId === scope.workerId),
  });
  return { snapshot, workers };
}

/**
 * Freezes what the dashboard shows: every worker in scope with its liveness,
 * latency and metric history (downsampled: series-pack.ts says what is kept),
 * sessions with stall flags, latest dump, and the recent events and audit
 * records. The state is read in one synchronous pass; the series are packed
 * a few workers at a time with pauses, each cut at `scope.nowMs`, so samples
 * that arrive meanwhile are left out and every series ends at the same moment.
 */
export async function captureSnapshot(
  scope: SnapshotScope,
  fleet: Fleet,
  events: EventLog,
  collector: StatusCollector,
  audit: AuditRecord[],
): Promise<CapturedSnapshot> {
  const { snapshot, workers } = captureState(scope, fleet, events, collector, audit);
  const series = new Map<WorkerDetail, Uint8Array>();
  const out = new ByteWriter();
  let sliceStart = performance.now();
  for (let i = 0; i < workers.length; i++) {
    const worker = workers[i];
    const detail = snapshot.details[i];
    if (!worker || !detail) continue;
    out.length = 0;
    packWorkerSeries(out, worker, scope.nowMs);
    series.set(detail, out.copy());
    if (performance.now() - sliceStart >= SLICE_MS) {
      await pause();
      sliceStart = performance.now();
    }
  }
  return { snapshot, series };
}

/**
 * The same snapshot in one synchronous pass, series as plain `Series`
 * (a cluster peer's shard travels that way). Costs more than
 * `captureSnapshot` for a large fleet.
 */
export function buildSnapshot(
  scope: SnapshotScope,
  fleet: Fleet,
  events: EventLog,
  collector: StatusCollector,
  audit: AuditRecord[],
): Snapshot {
  const { snapshot, workers } = captureState(scope, fleet, events, collector, audit);
  const out = new ByteWriter();
  workers.forEach((worker, i) => {
    const detail = snapshot.details[i];
    if (!detail) return;
    out.length = 0;
    packWorkerSeries(out, worker, scope.nowMs);
    Object.assign(detail, unpackWorkerSeries(out.copy()));
  });
  return snapshot;
}
