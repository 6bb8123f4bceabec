import type {
  Action,
  ActionKind,
  ActionStatus,
  AuditRecord,
} from "../../gen/stallwatch/v1/control_pb.js";

/**
 * What actions need from durable storage (the SQLite store implements it).
 * Every write returns only once it is durable: an action is acknowledged to
 * the operator only after its audit record is on disk.
 */
export interface ActionStore {
  getAction(actionId: string): Action | undefined;
  putAction(action: Action): void;
  appendAudit(record: AuditRecord): void;
  updateAudit(id: string, update: { result: ActionStatus; outcome: string }): void;
  listAudit(filter: {
    workerId?: string;
    actor?: string;
    kind?: ActionKind;
    limit: number;
  }): AuditRecord[];
}
