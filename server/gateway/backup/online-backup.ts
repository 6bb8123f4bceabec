import { accessSync, constants, existsSync, linkSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import Database from "better-sqlite3";
import { UsageError } from "../../shared/cli/usage-error.js";
import { isPostgresUrl } from "../store/connect.js";

export interface BackupResult {
  /** Pages copied, and the copy's size in bytes. */
  pages: number;
  bytes: number;
}

/** Copies fit in one step: one read transaction, one consistent picture. */
const ALL_PAGES = 0x7fffffff;

/**
 * Refuses, before anything is opened or written, what cannot work: a
 * PostgreSQL URL, a database that does not exist (opening it would create
 * an empty one), a target that exists (a backup never overwrites another),
 * a target directory that is missing or not writable.
 */
function checkPaths(db: string, to: string): void {
  if (isPostgresUrl(db))
    throw new UsageError("--db is a PostgreSQL URL: back it up with pg_dump (see the README)");
  if (!existsSync(db) || !statSync(db).isFile())
    throw new UsageError(`--db: no SQLite database at ${db}`);
  if (existsSync(to))
    throw new UsageError(`--to: ${to} exists; a backup never overwrites, choose a new name`);
  try {
    accessSync(dirname(to), constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    throw new UsageError(
      `--to: cannot write into ${dirname(to)} (${code === "ENOENT" ? "no such directory" : code})`,
    );
  }
}

/**
 * Copies a live SQLite database to `to` through SQLite's online backup API,
 * safe while a gateway writes to it. The source is opened read-only, so this
 * process never checkpoints or deletes its WAL; only SQLite touches the live
 * files. The copy is made under a temporary name beside `to`, checked
 * (`PRAGMA integrity_check`), turned into one self-contained file (rollback
 * journal, no -wal), and only then linked to `to`: a failed or interrupted
 * backup never leaves a half-written file under the name asked for.
 */
export async function backupSqlite(db: string, to: string): Promise<BackupResult> {
  checkPaths(db, to);
  const partial = join(dirname(to), `.${basename(to)}.${process.pid}.partial`);
  const source = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const { totalPages } = await source.backup(partial, { progress: () => ALL_PAGES });
    const copy = new Database(partial);
    try {
      const integrity = String(copy.pragma("integrity_check", { simple: true }));
      if (integrity !== "ok") throw new Error(`the copy fails integrity_check: ${integrity}`);
      copy.pragma("journal_mode = DELETE");
    } finally {
      copy.close();
    }
    // link(2) refuses an existing name, where rename(2) would replace it.
    linkSync(partial, to);
    return { pages: totalPages, bytes: statSync(to).size };
  } finally {
    source.close();
    for (const leftover of ["", "-wal", "-shm", "-journal"])
      rmSync(`${partial}${leftover}`, { force: true });
  }
}
