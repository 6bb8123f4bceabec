import type { ColumnType } from "kysely";

/**
 * The tables, as Kysely sees them on both dialects. Times are epoch
 * milliseconds (INTEGER on SQLite, BIGINT on PostgreSQL, read back as
 * numbers); bodies are protobuf binary (BLOB / BYTEA).
 */
export interface StoreTables {
  schema_migrations: { version: number; applied_at_ms: number };
  events: { id: string; at_ms: number; worker_id: string; kind: string; body: Uint8Array };
  audit: {
    id: string;
    at_ms: number;
    actor: string;
    kind: number;
    worker_id: string;
    body: Uint8Array;
  };
  actions: {
    action_id: string;
    started_at_ms: number;
    // Rows written by schema 1 have none; the body decides for them.
    status: ColumnType<number | null, number, number>;
    body: Uint8Array;
    /** The cluster gateway that runs it (null outside a cluster and before schema 3). */
    gateway_id: ColumnType<string | null, string | null | undefined, string | null>;
  };
  snapshots: {
    id: string;
    created_at_ms: number;
    expires_at_ms: number;
    info: Uint8Array;
    body: Uint8Array;
  };
  write_probe: { id: number; at_ms: number; pid: number };
  /** One row per live gateway of a cluster; see server/gateway/cluster. */
  gateways: {
    gateway_id: string;
    peer_url: string;
    http_url: string;
    lease_until_ms: number;
    started_at_ms: number;
  };
  /** One row per dial-in worker id: which gateway holds its stream. */
  worker_owners: { worker_id: string; gateway_id: string; claimed_at_ms: number };
  /** One row per worker with an announced, unrecovered incident (notifications). */
  incidents: { worker_id: string; causes: string; opened_at_ms: number; updated_at_ms: number };
  /** Remediation policy decisions (body: PolicyDecision); see policy-rows.ts. */
  policy_decisions: {
    decision_id: string;
    policy: string;
    outcome: number;
    at_ms: number;
    worker_id: string;
    /** "" when no action belongs to it. */
    action_id: string;
    gateway_id: string | null;
    body: Uint8Array;
  };
  /** The dry-run switch (body: DryRunOverride); at most one row, id 1. */
  policy_override: { id: number; at_ms: number; body: Uint8Array };
}

export type StoreDialect = "sqlite" | "postgres";
