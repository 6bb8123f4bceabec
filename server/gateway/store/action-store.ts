import type { Action, ActionKind, AuditRecord } from "../../../gen/stallwatch/v1/control_pb.js";

/**
 * What actions need from durable storage (server/gateway/store implements it on SQLite and PostgreSQL).
 * An action and its audit record are one state: every write below commits
 * both in one transaction and returns only once committed, so an action is
 * acknowledged only with its audit record on disk, and the two never disagree.
 */
export interface ActionStore {
  getAction(actionId: string): Promise<Action | undefined>;
  /**
   * Inserts a new action and its audit record; `linked` actions (the one a
   * retry resumes) are saved in the same transaction.
   */
  createAction(action: Action, linked?: Action[]): Promise<void>;
  /** Writes the action's current state to its row and its audit record. */
  saveAction(action: Action): Promise<void>;
  /** Actions a previous process left RUNNING (for reconciliation at start). */
  listUnfinishedActions(): Promise<Action[]>;
  listAudit(filter: {
    workerId?: string;
    actor?: string;
    kind?: ActionKind;
    limit: number;
  }): Promise<AuditRecord[]>;
}
