import { create } from "@bufbuild/protobuf";
import type { AuditRecord } from "../../../gen/stallwatch/v1/control_pb.js";
import { SnapshotSchema, type Snapshot } from "../../../gen/stallwatch/v1/snapshot_pb.js";
import type { EventLog } from "../events/event-log.js";
import type { Fleet } from "../fleet/fleet.js";
import { toWorkerDetail, toWorkerMessage } from "../fleet/worker-message.js";
import type { StatusCollector } from "../status/status-collector.js";
import { EVENTS_PER_WORKER, recentEventsByWorker } from "./recent-events.js";

export interface SnapshotScope {
  id: string;
  createdBy: string;
  /** Empty = the whole fleet. */
  workerId: string;
  note: string;
  retentionMs: number;
  nowMs: number;
}

/** History the snapshot keeps per worker: everything the prober retains. */
const FULL_WINDOW_MS = 15 * 60_000;

/**
 * Freezes what the dashboard shows: every worker in scope with its liveness,
 * full latency and metric history, sessions with stall flags, latest dump,
 * and the recent events and audit records. The result is self-contained, so
 * the permalink renders the same views after the workers are long gone.
 */
export function buildSnapshot(
  scope: SnapshotScope,
  fleet: Fleet,
  events: EventLog,
  collector: StatusCollector,
  audit: AuditRecord[],
): Snapshot {
  const workers = scope.workerId
    ? [fleet.get(scope.workerId)].filter((w) => w !== undefined)
    : fleet.all();
  const inScope = new Set(workers.map((w) => w.id));
  const recent = recentEventsByWorker(events, inScope, EVENTS_PER_WORKER);
  const messages = workers.map(toWorkerMessage);
  return create(SnapshotSchema, {
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
      toWorkerDetail(w, FULL_WINDOW_MS, recent.get(w.id) ?? [], scope.nowMs, messages[i]),
    ),
    stalled: collector.stalledSessions().filter((s) => inScope.has(s.workerId)),
    events: events
      .list({ limit: 500 })
      .filter((e) => !scope.workerId || e.workerId === scope.workerId),
    audit: audit.filter((a) => !scope.workerId || a.workerId === scope.workerId),
  });
}
