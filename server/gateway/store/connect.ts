import Database from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, sql } from "kysely";
import pg from "pg";
import type { StoreDialect, StoreTables } from "./schema.js";
import { openDatabaseFile } from "./store-files.js";

export interface Connection {
  db: Kysely<StoreTables>;
  dialect: StoreDialect;
  /** Where the data lives, for messages: a file path or the URL without its password. */
  label: string;
  /** The SQLite handle (pragmas, checkpoint, file probes); absent on PostgreSQL. */
  sqlite?: Database.Database;
  /** Runs `fn` in one transaction: all of it commits, or none of it. */
  transact: Transact;
}

export type Transact = <T>(fn: (trx: Kysely<StoreTables>) => Promise<T>) => Promise<T>;

/**
 * SQLite transactions by hand: BEGIN IMMEDIATE takes the write lock up
 * front (a deferred one that upgrades later can fail with SQLITE_BUSY at no
 * retry), and when SQLite has already rolled back by itself (an I/O error or
 * a full disk at COMMIT) no second ROLLBACK hides the error that matters.
 */
function sqliteTransact(db: Kysely<StoreTables>, handle: Database.Database): Transact {
  return (fn) =>
    db.connection().execute(async (c) => {
      await sql`BEGIN IMMEDIATE`.execute(c);
      try {
        const result = await fn(c);
        await sql`COMMIT`.execute(c);
        return result;
      } catch (err) {
        if (handle.inTransaction) await sql`ROLLBACK`.execute(c).catch(() => {});
        throw err;
      }
    });
}

/** `postgres://` or `postgresql://` selects PostgreSQL; anything else is a SQLite path. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** The URL as it may appear in logs and errors: no password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "postgres://(unparseable URL)";
  }
}

/** Times are BIGINT epoch milliseconds: they fit a double exactly. */
const bigintAsNumber = new pg.TypeOverrides();
bigintAsNumber.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

/**
 * Opens the Kysely handle for a location. PostgreSQL gets deadlines on
 * connecting, on every statement and on idle transactions, so a stuck
 * database turns into errors rather than a hung gateway.
 */
export function connect(
  location: string,
  durability: "full" | "normal",
  pool: { max?: number; statementTimeoutMs?: number } = {},
): Connection {
  if (isPostgresUrl(location)) {
    const statementTimeoutMs = pool.statementTimeoutMs ?? 10_000;
    const p = new pg.Pool({
      connectionString: location,
      max: pool.max ?? 8,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      statement_timeout: statementTimeoutMs,
      idle_in_transaction_session_timeout: 30_000,
      query_timeout: statementTimeoutMs + 2_000,
      application_name: "stallwatch",
      types: bigintAsNumber,
    });
    // An idle client losing its connection must not crash the process; the
    // next query fails and is classified like any other store error.
    p.on("error", () => {});
    const db = new Kysely<StoreTables>({ dialect: new PostgresDialect({ pool: p }) });
    return {
      db,
      dialect: "postgres",
      label: redactUrl(location),
      transact: (fn) => db.transaction().execute(fn),
    };
  }
  const sqlite = location === ":memory:" ? new Database(location) : openDatabaseFile(location);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma(`synchronous = ${durability === "normal" ? "NORMAL" : "FULL"}`);
  sqlite.pragma("busy_timeout = 2000");
  sqlite.pragma("foreign_keys = ON");
  const db = new Kysely<StoreTables>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { db, dialect: "sqlite", label: location, sqlite, transact: sqliteTransact(db, sqlite) };
}
