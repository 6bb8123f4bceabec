import { create } from "@bufbuild/protobuf";
import type { AuditRecord } from "../../../gen/stallwatch/v1/control_pb.js";
import type { FleetEvent, Worker, WorkerDetail } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { SnapshotSchema, type Snapshot } from "../../../gen/stallwatch/v1/snapshot_pb.js";
import type { EventLog } from "../events/event-log.js";
import type { FleetReader } from "../fleet/fleet-reader.js";
import type { TrackedWorker } from "../fleet/tracked-worker.js";
import { toWorkerDetailWithoutSeries, toWorkerMessage } from "../fleet/worker-message.js";
import type { StatusCollector } from "../status-intake/status-collector.js";
import { EVENTS_PER_WORKER, recentEventsByWorker } from "./recent-events.js";
import { inSlices } from "./in-slices.js";
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

/** The snapshot's frame (info, stalled sessions, events, audit) and who is in it. */
function frame(
  scope: SnapshotScope,
  fleet: FleetReader,
  events: EventLog,
  collector: StatusCollector,
  audit: AuditRecord[],
): { snapshot: Snapshot; workers: TrackedWorker[]; recent: Map<string, FleetEvent[]> } {
  const workers = scope.workerId
    ? [fleet.get(scope.workerId)].filter((w) => w !== undefined)
    : fleet.all();
  const inScope = new Set(workers.map((w) => w.id));
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
    stalled: collector.stalledSessions().filter((s) => inScope.has(s.workerId)),
    events: events
      .list({ limit: 500 })
      .filter((e) => !scope.workerId || e.workerId === scope.workerId),
    audit: audit.filter((a) => !scope.workerId || a.workerId === scope.workerId),
  });
  return { snapshot, workers, recent: recentEventsByWorker(events, inScope, EVENTS_PER_WORKER) };
}

/**
 * Freezes what the dashboard shows: every worker in scope with its liveness,
 * latency and metric history (downsampled: series-pack.ts says what is kept),
 * sessions with stall flags, latest dump, and the recent events and audit
 * records. Who is in it, the events and stalled sessions are read in one
 * pass; then workers are read a few at a time with pauses (each worker whole
 * at one moment, all within the create's few hundred ms). Series are cut at
 * `scope.nowMs`: samples that arrive meanwhile are left out, so every series
 * ends at the same moment.
 */
export async function captureSnapshot(
  scope: SnapshotScope,
  fleet: FleetReader,
  events: EventLog,
  collector: StatusCollector,
  audit: AuditRecord[],
): Promise<CapturedSnapshot> {
  const { snapshot, workers, recent } = frame(scope, fleet, events, collector, audit);
  const series = new Map<WorkerDetail, Uint8Array>();
  const out = new ByteWriter();
  await inSlices(workers, (worker) => {
    const { message, detail, packed } = workerParts(worker, recent, scope.nowMs, out);
    snapshot.workers.push(message);
    snapshot.details.push(detail);
    series.set(detail, packed);
  });
  return { snapshot, series };
}

/**
 * The same snapshot in one synchronous pass, series as plain `Series`
 * (a cluster peer's shard travels that way). Costs more than
 * `captureSnapshot` for a large fleet.
 */
export function buildSnapshot(
  scope: SnapshotScope,
  fleet: FleetReader,
  events: EventLog,
  collector: StatusCollector,
  audit: AuditRecord[],
): Snapshot {
  const { snapshot, workers, recent } = frame(scope, fleet, events, collector, audit);
  const out = new ByteWriter();
  for (const worker of workers) {
    const { message, detail, packed } = workerParts(worker, recent, scope.nowMs, out);
    snapshot.workers.push(message);
    snapshot.details.push(Object.assign(detail, unpackWorkerSeries(packed)));
  }
  return snapshot;
}

/** One worker as a snapshot keeps it: its message, its detail, and its series packed (cut at `nowMs`). */
function workerParts(
  worker: TrackedWorker,
  recent: ReadonlyMap<string, FleetEvent[]>,
  nowMs: number,
  out: ByteWriter,
): { message: Worker; detail: WorkerDetail; packed: Uint8Array } {
  // One message per worker, shared by the list and the detail (the codec encodes it once).
  const message = toWorkerMessage(worker);
  const detail = toWorkerDetailWithoutSeries(worker, recent.get(worker.id) ?? [], message);
  out.length = 0;
  packWorkerSeries(out, worker, nowMs);
  return { message, detail, packed: out.copy() };
}
