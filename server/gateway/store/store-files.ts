import { accessSync, constants, existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Kysely } from "kysely";
import type { StoreTables } from "./schema.js";
import { StoreFatalError } from "./store-errors.js";

/*
 * The rule of this file: nothing but SQLite opens, closes, renames, copies or
 * unlinks the live database files. On POSIX, closing any descriptor of a file
 * drops every fcntl lock this process holds on it, SQLite's included; the
 * next process to open the database then believes nobody has it open,
 * checkpoints and deletes the WAL under us, and every acknowledged write from
 * then on goes to a deleted file (issue 18; §2.2 of SQLite's "How To Corrupt
 * An SQLite Database File"). Checks use access(2) and stat(2), which take a
 * path and open nothing.
 */

/**
 * Opens the SQLite database, creating its directory (0700) and file (0600)
 * when missing, so audit and thread dumps are readable by the gateway's user
 * only. SQLite creates the file itself, under a umask that leaves only the
 * owner's bits (it gives the -wal and -shm files the database file's mode).
 * Existing files and directories keep the mode their owner chose.
 */
export function openDatabaseFile(path: string): Database.Database {
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  // umask is process-wide, but SQLite's open is synchronous: no JavaScript
  // runs in between, and a file another thread creates meanwhile can only
  // come out stricter, never looser.
  const previous = process.umask(0o077);
  try {
    return new Database(path);
  } finally {
    process.umask(previous);
  }
}

const READ_ONLY_ERRNO = new Set(["EROFS", "EPERM", "EACCES"]);

/**
 * Why `path` could not be written by the next start, or undefined when it can:
 * access(2) with W_OK answers from the mode, the immutable flag (EPERM) and a
 * read-only mount (EROFS) without opening the file.
 */
function unwritable(path: string): { code: string; cause: unknown } | undefined {
  try {
    accessSync(path, constants.W_OK);
    return undefined;
  } catch (err) {
    return { code: (err as NodeJS.ErrnoException).code ?? "UNKNOWN", cause: err };
  }
}

/**
 * A cheap proof that the store can still write. On SQLite: the database,
 * its -wal and their directory are writable by mode, flags and mount (what
 * the next start needs; handles already open keep writing to a file made
 * read-only under them, so a row write alone would not notice), checked
 * without opening them. On both dialects: a one-row table takes a committed
 * write (what a full disk or a read-only PostgreSQL refuses; SQLite's own
 * SQLITE_READONLY/IOERR/FULL/CORRUPT surface there and are fatal).
 */
export function createWriteProbe(
  db: Kysely<StoreTables>,
  sqlitePath: string | undefined,
): () => Promise<void> {
  const paths =
    !sqlitePath || sqlitePath === ":memory:"
      ? []
      : [sqlitePath, `${sqlitePath}-wal`, dirname(sqlitePath)];
  return async () => {
    for (const path of paths) {
      const failed = unwritable(path);
      if (!failed) continue;
      if (failed.code === "ENOENT" && path === `${sqlitePath}-wal`) continue; // no WAL yet
      if (READ_ONLY_ERRNO.has(failed.code) || failed.code === "ENOENT") {
        throw new StoreFatalError(
          `${path} is not writable (${failed.code}): it is read-only, immutable, gone, or on a read-only file system`,
          `FILE_${failed.code}`,
          { cause: failed.cause },
        );
      }
      throw failed.cause;
    }
    const row = { id: 1, at_ms: Date.now(), pid: process.pid };
    await db
      .insertInto("write_probe")
      .values(row)
      .onConflict((oc) => oc.column("id").doUpdateSet({ at_ms: row.at_ms, pid: row.pid }))
      .execute();
  };
}
