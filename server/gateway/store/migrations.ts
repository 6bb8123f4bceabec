import { sql, type Kysely, type RawBuilder } from "kysely";
import type { Transact } from "./connect.js";
import type { StoreDialect, StoreTables } from "./schema.js";

/** Column types that differ by dialect; everything else is written once. */
interface Types {
  ms: "integer" | "bigint";
  bytes: "blob" | "bytea";
}

// Kysely's schema builder is typed against the tables that exist at the end,
// not at each migration's step; migrations talk to an untyped handle.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
type AnyDb = Kysely<any>;

/**
 * Schema versions, applied in order, each in its own transaction, on SQLite
 * and PostgreSQL alike. To change the schema, append a migration; never edit
 * one that has shipped.
 */
/** An index over an expression (`at_ms DESC`), named for what it serves. */
async function index(db: AnyDb, name: string, table: string, on: RawBuilder<unknown>) {
  await db.schema.createIndex(name).on(table).expression(on).execute();
}

export const MIGRATIONS: readonly {
  version: number;
  up: (db: AnyDb, t: Types) => Promise<void>;
}[] = [
  {
    version: 1,
    async up(db, t) {
      await db.schema
        .createTable("events")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("at_ms", t.ms, (c) => c.notNull())
        .addColumn("worker_id", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("body", t.bytes, (c) => c.notNull())
        .execute();
      await index(db, "events_at", "events", sql`at_ms DESC`);
      await index(db, "events_worker_at", "events", sql`worker_id, at_ms DESC`);
      await db.schema
        .createTable("audit")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("at_ms", t.ms, (c) => c.notNull())
        .addColumn("actor", "text", (c) => c.notNull())
        .addColumn("kind", "integer", (c) => c.notNull())
        .addColumn("worker_id", "text", (c) => c.notNull())
        .addColumn("body", t.bytes, (c) => c.notNull())
        .execute();
      await index(db, "audit_at", "audit", sql`at_ms DESC`);
      await db.schema
        .createTable("actions")
        .addColumn("action_id", "text", (c) => c.primaryKey())
        .addColumn("started_at_ms", t.ms, (c) => c.notNull())
        .addColumn("body", t.bytes, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("snapshots")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("created_at_ms", t.ms, (c) => c.notNull())
        .addColumn("expires_at_ms", t.ms, (c) => c.notNull())
        .addColumn("info", t.bytes, (c) => c.notNull())
        .addColumn("body", t.bytes, (c) => c.notNull())
        .execute();
      await index(db, "snapshots_created", "snapshots", sql`created_at_ms DESC`);
      await db.schema
        .createIndex("snapshots_expires")
        .on("snapshots")
        .column("expires_at_ms")
        .execute();
    },
  },
  {
    // Actions by status (reconciliation at start finds what a crash left
    // RUNNING); a one-row table that /readyz writes to prove the store writes.
    version: 2,
    async up(db, t) {
      await db.schema.alterTable("actions").addColumn("status", "integer").execute();
      await db.schema.createIndex("actions_status").on("actions").column("status").execute();
      await db.schema
        .createTable("write_probe")
        .addColumn("id", "integer", (c) => c.primaryKey().check(sql`id = 1`))
        .addColumn("at_ms", t.ms, (c) => c.notNull())
        .addColumn("pid", "integer", (c) => c.notNull())
        .execute();
    },
  },
  {
    // Cluster membership (leases), dial-in worker ownership, and which
    // gateway runs each action (so a gateway reconciles only its own); unused
    // by a lone gateway, created everywhere so one schema serves both dialects.
    version: 3,
    async up(db, t) {
      await db.schema.alterTable("actions").addColumn("gateway_id", "text").execute();
      await db.schema
        .createTable("gateways")
        .addColumn("gateway_id", "text", (c) => c.primaryKey())
        .addColumn("peer_url", "text", (c) => c.notNull())
        .addColumn("http_url", "text", (c) => c.notNull())
        .addColumn("lease_until_ms", t.ms, (c) => c.notNull())
        .addColumn("started_at_ms", t.ms, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("worker_owners")
        .addColumn("worker_id", "text", (c) => c.primaryKey())
        .addColumn("gateway_id", "text", (c) => c.notNull())
        .addColumn("claimed_at_ms", t.ms, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("worker_owners_gateway")
        .on("worker_owners")
        .column("gateway_id")
        .execute();
    },
  },
  {
    // Remediation policies (server/gateway/policies): one row per decision,
    // keyed by an id derived from (policy, worker, session) so a second
    // evaluation, a restart or another gateway inserts nothing new; and the
    // fleet-wide dry-run switch, one row.
    version: 4,
    async up(db, t) {
      await db.schema
        .createTable("policy_decisions")
        .addColumn("decision_id", "text", (c) => c.primaryKey())
        .addColumn("policy", "text", (c) => c.notNull())
        .addColumn("outcome", "integer", (c) => c.notNull())
        .addColumn("at_ms", t.ms, (c) => c.notNull())
        .addColumn("worker_id", "text", (c) => c.notNull())
        .addColumn("action_id", "text", (c) => c.notNull())
        .addColumn("gateway_id", "text")
        .addColumn("body", t.bytes, (c) => c.notNull())
        .execute();
      await index(db, "policy_decisions_at", "policy_decisions", sql`at_ms DESC`);
      await index(
        db,
        "policy_decisions_policy_outcome_at",
        "policy_decisions",
        sql`policy, outcome, at_ms DESC`,
      );
      await db.schema
        .createTable("policy_override")
        .addColumn("id", "integer", (c) => c.primaryKey().check(sql`id = 1`))
        .addColumn("at_ms", t.ms, (c) => c.notNull())
        .addColumn("body", t.bytes, (c) => c.notNull())
        .execute();
    },
  },
  {
    // Open notification incidents, so a restart or a takeover never
    // announces the same incident twice (server/gateway/notifications).
    version: 5,
    async up(db, t) {
      await db.schema
        .createTable("incidents")
        .addColumn("worker_id", "text", (c) => c.primaryKey())
        .addColumn("causes", "text", (c) => c.notNull())
        .addColumn("opened_at_ms", t.ms, (c) => c.notNull())
        .addColumn("updated_at_ms", t.ms, (c) => c.notNull())
        .execute();
    },
  },
];

/** Any constant: the advisory lock that serialises migrations across gateways. */
const MIGRATION_LOCK = 0x5741_7463;

/**
 * Applies what is missing; refuses a database written by a newer Stallwatch.
 * On PostgreSQL, gateways starting together take turns on an advisory lock.
 */
export async function migrate(
  db: Kysely<StoreTables>,
  dialect: StoreDialect,
  label: string,
  transact: Transact,
): Promise<number> {
  const t: Types =
    dialect === "postgres" ? { ms: "bigint", bytes: "bytea" } : { ms: "integer", bytes: "blob" };
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  const current = async (trx: Kysely<StoreTables>) => {
    await trx.schema
      .createTable("schema_migrations")
      .ifNotExists()
      .addColumn("version", "integer", (c) => c.primaryKey())
      .addColumn("applied_at_ms", t.ms, (c) => c.notNull())
      .execute();
    const row = await trx
      .selectFrom("schema_migrations")
      .select((eb) => eb.fn.max("version").as("v"))
      .executeTakeFirst();
    const v = row?.v ?? 0;
    if (v > latest) {
      throw new Error(
        `${label} has schema version ${v}, newer than this Stallwatch knows (${latest}); upgrade Stallwatch or use another --db`,
      );
    }
    return v;
  };
  const step = async (trx: Kysely<StoreTables>, version: number) => {
    const m = MIGRATIONS.find((x) => x.version === version);
    if (!m) return;
    await m.up(trx, t);
    await trx
      .insertInto("schema_migrations")
      .values({ version: m.version, applied_at_ms: Date.now() })
      .execute();
  };
  if (dialect === "postgres") {
    // One transaction: DDL is transactional on PostgreSQL, and the lock
    // holds until commit, so a second gateway sees the finished schema.
    await transact(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(trx);
      const from = await current(trx);
      for (let v = from + 1; v <= latest; v++) await step(trx, v);
    });
    return latest;
  }
  const from = await current(db);
  for (let v = from + 1; v <= latest; v++) {
    await transact((trx) => step(trx, v));
  }
  return latest;
}
