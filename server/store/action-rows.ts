import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Database } from "better-sqlite3";
import {
  ActionSchema,
  ActionStatus,
  AuditRecordSchema,
  type Action,
  type AuditRecord,
} from "../../gen/stallwatch/v1/control_pb.js";
import type { ActionStore } from "../actions/action-store.js";

type Guard = <T>(what: string, fn: () => T) => T;

const MAX_LIMIT = 1000;
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
  });
}

/** Actions and their audit records on SQLite; every change is one transaction. */
export function createActionRows(db: Database, guard: Guard): ActionStore {
  const st = {
    getAction: db.prepare("SELECT body FROM actions WHERE action_id = ?"),
    insertAction: db.prepare(
      "INSERT INTO actions (action_id, started_at_ms, status, body) VALUES (?, ?, ?, ?)",
    ),
    updateAction: db.prepare("UPDATE actions SET status = ?, body = ? WHERE action_id = ?"),
    // Upsert: an action written by a version that lost its audit record gets one back.
    putAudit: db.prepare(
      "INSERT INTO audit (id, at_ms, actor, kind, worker_id, body) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET body = excluded.body",
    ),
    unfinished: db.prepare(
      "SELECT body FROM actions WHERE status IS NULL OR status = ? ORDER BY started_at_ms",
    ),
  };
  const writeAudit = (action: Action) => {
    const record = auditOf(action);
    st.putAudit.run(
      record.id,
      Number(record.atMs),
      record.actor,
      record.kind,
      record.workerId,
      toBinary(AuditRecordSchema, record),
    );
  };
  const save = (action: Action) => {
    const changed = st.updateAction.run(
      action.status,
      toBinary(ActionSchema, action),
      action.actionId,
    ).changes;
    if (changed === 0) throw new Error(`no action "${action.actionId}" to update`);
    writeAudit(action);
  };
  const createTx = db.transaction((action: Action, linked: Action[]) => {
    st.insertAction.run(
      action.actionId,
      Number(action.startedAtMs),
      action.status,
      toBinary(ActionSchema, action),
    );
    writeAudit(action);
    for (const other of linked) save(other);
  });
  const saveTx = db.transaction(save);

  return {
    getAction(actionId) {
      const row = guard(
        "get action",
        () => st.getAction.get(actionId) as { body: Buffer } | undefined,
      );
      return row ? fromBinary(ActionSchema, row.body) : undefined;
    },

    createAction(action, linked = []) {
      guard("record action", () => createTx(action, linked));
    },

    saveAction(action) {
      guard("update action", () => saveTx(action));
    },

    listUnfinishedActions() {
      const rows = guard(
        "list unfinished actions",
        () => st.unfinished.all(ActionStatus.RUNNING) as { body: Buffer }[],
      );
      // Rows from schema 1 have no status column value: the body decides.
      return rows
        .map((r) => fromBinary(ActionSchema, r.body))
        .filter((a) => a.status === ActionStatus.RUNNING);
    },

    listAudit({ workerId, actor, kind, limit }) {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (workerId) {
        where.push("worker_id = ?");
        params.push(workerId);
      }
      if (actor) {
        where.push("actor = ?");
        params.push(actor);
      }
      if (kind !== undefined) {
        where.push("kind = ?");
        params.push(kind);
      }
      const sql = `SELECT body FROM audit ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY at_ms DESC LIMIT ?`;
      const rows = guard(
        "list audit",
        () => db.prepare(sql).all(...params, clampLimit(limit)) as { body: Buffer }[],
      );
      return rows.map((r) => fromBinary(AuditRecordSchema, r.body));
    },
  };
}
