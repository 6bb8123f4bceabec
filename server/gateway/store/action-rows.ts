import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Kysely } from "kysely";
import {
  ActionSchema,
  ActionStatus,
  AuditRecordSchema,
  type Action,
  type AuditRecord,
} from "../../../gen/stallwatch/v1/control_pb.js";
import type { ActionStore } from "./action-store.js";
import type { Transact } from "./connect.js";
import type { StoreTables } from "./schema.js";

type Guard = <T>(what: string, fn: () => Promise<T>) => Promise<T>;
type Db = Kysely<StoreTables>;

const MAX_LIMIT = 1000;
/** Protobuf bytes as the drivers bind them (pg wants a Buffer). */
export const bytes = (u8: Uint8Array): Buffer =>
  Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);

const clampLimit = (limit: number) => Math.max(1, Math.min(MAX_LIMIT, Math.floor(limit) || 1));

/** The audit record is a projection of its action, so both can be written together. */
export function auditOf(action: Action): AuditRecord {
  return create(AuditRecordSchema, {
    id: action.auditId,
    atMs: action.startedAtMs,
    actor: action.actor,
    kind: action.kind,
    workerId: action.workerId,
    sessionId: action.sessionId,
    reason: action.reason,
    result: action.status,
    outcome: action.outcome,
    actionId: action.actionId,
    endedAtMs: action.endedAtMs,
    retryOf: action.retryOf,
    reconciled: action.reconciled,
    retriedBy: action.retriedBy,
    evidence: action.evidence,
    evidenceSnapshotId: action.evidenceSnapshotId,
  });
}

/** Actions and their audit records, on either dialect; every change is one transaction. */
export function createActionRows(
  db: Db,
  transact: Transact,
  guard: Guard,
  now: () => number,
  gatewayId?: string,
): ActionStore {
  const writeAudit = async (trx: Db, action: Action) => {
    const record = auditOf(action);
    const body = bytes(toBinary(AuditRecordSchema, record));
    // Upsert: an action written by a version that lost its audit record gets one back.
    await trx
      .insertInto("audit")
      .values({
        id: record.id,
        at_ms: Number(record.atMs),
        actor: record.actor,
        kind: record.kind,
        worker_id: record.workerId,
        body,
      })
      .onConflict((oc) => oc.column("id").doUpdateSet({ body }))
      .execute();
  };
  const save = async (trx: Db, action: Action) => {
    const result = await trx
      .updateTable("actions")
      .set({ status: action.status, body: bytes(toBinary(ActionSchema, action)) })
      .where("action_id", "=", action.actionId)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new Error(`no action "${action.actionId}" to update`);
    await writeAudit(trx, action);
  };

  return {
    async getAction(actionId) {
      const row = await guard("get action", () =>
        db
          .selectFrom("actions")
          .select("body")
          .where("action_id", "=", actionId)
          .executeTakeFirst(),
      );
      return row ? fromBinary(ActionSchema, row.body) : undefined;
    },

    async createAction(action, linked = []) {
      await guard("record action", () =>
        transact(async (trx) => {
          await trx
            .insertInto("actions")
            .values({
              action_id: action.actionId,
              started_at_ms: Number(action.startedAtMs),
              status: action.status,
              body: bytes(toBinary(ActionSchema, action)),
              gateway_id: gatewayId ?? null,
            })
            .execute();
          await writeAudit(trx, action);
          for (const other of linked) await save(trx, other);
        }),
      );
    },

    async saveAction(action) {
      await guard("update action", () => transact((trx) => save(trx, action)));
    },

    async listUnfinishedActions() {
      const rows = await guard("list unfinished actions", () =>
        db
          .selectFrom("actions")
          .select("body")
          .where((eb) => eb.or([eb("status", "is", null), eb("status", "=", ActionStatus.RUNNING)]))
          // In a cluster: this gateway's, and those of gateways whose lease ran out.
          .$if(gatewayId !== undefined, (q) =>
            q.where((eb) =>
              eb.or([
                eb("gateway_id", "is", null),
                eb("gateway_id", "=", gatewayId ?? ""),
                eb.not(
                  eb.exists(
                    eb
                      .selectFrom("gateways")
                      .select("gateways.gateway_id")
                      .whereRef("gateways.gateway_id", "=", "actions.gateway_id")
                      .where("gateways.lease_until_ms", ">", now()),
                  ),
                ),
              ]),
            ),
          )
          .orderBy("started_at_ms")
          .execute(),
      );
      // Rows from schema 1 have no status column value: the body decides.
      return rows
        .map((r) => fromBinary(ActionSchema, r.body))
        .filter((a) => a.status === ActionStatus.RUNNING);
    },

    async listAudit({ workerId, actor, kind, limit }) {
      let q = db.selectFrom("audit").select("body");
      if (workerId) q = q.where("worker_id", "=", workerId);
      if (actor) q = q.where("actor", "=", actor);
      if (kind !== undefined) q = q.where("kind", "=", kind);
      const rows = await guard("list audit", () =>
        q.orderBy("at_ms", "desc").limit(clampLimit(limit)).execute(),
      );
      return rows.map((r) => fromBinary(AuditRecordSchema, r.body));
    },
  };
}
