import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  CreateSnapshotResponseSchema,
  DeleteSnapshotResponseSchema,
  GetSnapshotResponseSchema,
  ListSnapshotsResponseSchema,
  SnapshotService,
} from "../../gen/stallwatch/v1/snapshot_pb.js";
import type { ActionStore } from "../actions/action-store.js";
import { identifyCaller, requireOperator, type AuthConfig } from "../auth/caller.js";
import type { EventLog } from "../events/event-log.js";
import type { Fleet } from "../fleet/fleet.js";
import type { Logger } from "../logging/logger.js";
import type { StatusCollector } from "../thread-dumps/status-collector.js";
import { buildSnapshot } from "./build-snapshot.js";
import type { SnapshotStore } from "./snapshot-store.js";

export interface SnapshotServiceDeps {
  fleet: Fleet;
  events: EventLog;
  collector: StatusCollector;
  store: SnapshotStore & Pick<ActionStore, "listAudit">;
  auth: AuthConfig;
  retentionMs: number;
  log: Logger;
}

/** 128 random bits, URL-safe: unguessable permalinks. */
export function newSnapshotId(): string {
  return randomBytes(16).toString("base64url");
}

const SNAPSHOT_ID = /^[A-Za-z0-9_-]{22,64}$/;

export function createSnapshotService(
  deps: SnapshotServiceDeps,
): ServiceImpl<typeof SnapshotService> {
  return {
    createSnapshot(request, context) {
      if (request.workerId && !deps.fleet.get(request.workerId)) {
        throw new ConnectError(
          `no worker "${request.workerId.slice(0, 200)}" in the fleet`,
          Code.NotFound,
        );
      }
      if (request.note.length > 2000)
        throw new ConnectError("note must be at most 2000 characters", Code.InvalidArgument);
      const caller = identifyCaller(context.requestHeader, deps.auth);
      const started = performance.now();
      const snapshot = buildSnapshot(
        {
          id: newSnapshotId(),
          createdBy: caller.actor,
          workerId: request.workerId,
          note: request.note,
          retentionMs: deps.retentionMs,
          nowMs: Date.now(),
        },
        deps.fleet,
        deps.events,
        deps.collector,
        deps.store.listAudit({ limit: 200 }),
      );
      const info = deps.store.putSnapshot(snapshot);
      deps.log.info(
        {
          snapshot: info.id,
          workers: info.workerCount,
          bytes: Number(info.sizeBytes),
          ms: Math.round(performance.now() - started),
        },
        "snapshot created",
      );
      return create(CreateSnapshotResponseSchema, { info });
    },

    getSnapshot(request) {
      const snapshot = SNAPSHOT_ID.test(request.id)
        ? deps.store.getSnapshot(request.id)
        : undefined;
      if (!snapshot)
        throw new ConnectError("no such snapshot: it never existed or has expired", Code.NotFound);
      if (request.workerId) {
        snapshot.details = snapshot.details.filter((d) => d.worker?.id === request.workerId);
        if (snapshot.details.length === 0) {
          throw new ConnectError(
            `worker "${request.workerId.slice(0, 200)}" is not in this snapshot`,
            Code.NotFound,
          );
        }
      } else if (request.summary) {
        snapshot.details = [];
      }
      return create(GetSnapshotResponseSchema, { snapshot });
    },

    listSnapshots(request) {
      return create(ListSnapshotsResponseSchema, {
        snapshots: deps.store.listSnapshots(Math.min(request.limit || 50, 500)),
      });
    },

    deleteSnapshot(request, context) {
      const caller = requireOperator(context.requestHeader, deps.auth);
      if (!SNAPSHOT_ID.test(request.id) || !deps.store.deleteSnapshot(request.id)) {
        throw new ConnectError("no such snapshot", Code.NotFound);
      }
      deps.log.info({ snapshot: request.id, actor: caller.actor }, "snapshot deleted");
      return create(DeleteSnapshotResponseSchema, {});
    },
  };
}
