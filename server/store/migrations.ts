import type { Database } from "better-sqlite3";

/**
 * Schema versions, applied in order, each in its own transaction. To change
 * the schema, append a migration; never edit one that has shipped.
 */
export const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE events (
        id TEXT PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        worker_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        body BLOB NOT NULL
      );
      CREATE INDEX events_at ON events (at_ms DESC);
      CREATE INDEX events_worker_at ON events (worker_id, at_ms DESC);

      CREATE TABLE audit (
        id TEXT PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        actor TEXT NOT NULL,
        kind INTEGER NOT NULL,
        worker_id TEXT NOT NULL,
        body BLOB NOT NULL
      );
      CREATE INDEX audit_at ON audit (at_ms DESC);

      CREATE TABLE actions (
        action_id TEXT PRIMARY KEY,
        started_at_ms INTEGER NOT NULL,
        body BLOB NOT NULL
      );

      CREATE TABLE snapshots (
        id TEXT PRIMARY KEY,
        created_at_ms INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL,
        info BLOB NOT NULL,
        body BLOB NOT NULL
      );
      CREATE INDEX snapshots_created ON snapshots (created_at_ms DESC);
      CREATE INDEX snapshots_expires ON snapshots (expires_at_ms);
    `,
  },
  {
    // Actions by status (reconciliation at start finds what a crash left
    // RUNNING); a one-row table that /readyz writes to prove the store writes.
    version: 2,
    sql: `
      ALTER TABLE actions ADD COLUMN status INTEGER;
      CREATE INDEX actions_status ON actions (status);
      CREATE TABLE write_probe (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        at_ms INTEGER NOT NULL,
        pid INTEGER NOT NULL
      );
    `,
  },
];

/** Applies what is missing; refuses a database written by a newer Stallwatch. */
export function migrate(db: Database, path: string): number {
  db.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL)",
  );
  const row = db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get() as {
    v: number | null;
  };
  const current = row.v ?? 0;
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new Error(
      `${path} has schema version ${current}, newer than this Stallwatch knows (${latest}); upgrade Stallwatch or use another --db`,
    );
  }
  const record = db.prepare("INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?, ?)");
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, Date.now());
    })();
  }
  return latest;
}
