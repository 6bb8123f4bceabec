import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import type { Kysely } from "kysely";
import type { StoreTables } from "./schema.js";
import { StoreFatalError } from "./store-errors.js";

/**
 * Creates the database's directory (0700) and file (0600) when missing, so
 * audit and thread dumps are readable by the gateway's user only. SQLite
 * gives the -wal and -shm files the database file's mode. Existing files and
 * directories keep the mode their owner chose.
 */
export function prepareDatabaseFile(path: string): void {
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, "wx", 0o600));
    chmodSync(path, 0o600); // the umask may have taken bits off; never added any
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
}

const READ_ONLY_ERRNO = new Set(["EROFS", "EPERM", "EACCES"]);

/**
 * A cheap proof that the store can still write: on SQLite the files can be
 * opened for writing (what the next start needs; open handles keep writing
 * to a file made read-only under them, so a row write alone would not
 * notice); on both dialects a one-row table takes a committed write (what a
 * full disk or a read-only PostgreSQL refuses).
 */
export function createWriteProbe(
  db: Kysely<StoreTables>,
  sqlitePath: string | undefined,
): () => Promise<void> {
  const files = !sqlitePath || sqlitePath === ":memory:" ? [] : [sqlitePath, `${sqlitePath}-wal`];
  return async () => {
    for (const file of files) {
      let fd: number;
      try {
        fd = openSync(file, "r+");
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? "";
        if (code === "ENOENT" && file !== sqlitePath) continue; // no WAL yet
        if (READ_ONLY_ERRNO.has(code) || code === "ENOENT") {
          throw new StoreFatalError(
            `${file} cannot be opened for writing (${code}): it is read-only, immutable, gone, or on a read-only file system`,
            `FILE_${code}`,
            { cause: err },
          );
        }
        throw err;
      }
      closeSync(fd);
    }
    const row = { id: 1, at_ms: Date.now(), pid: process.pid };
    await db
      .insertInto("write_probe")
      .values(row)
      .onConflict((oc) => oc.column("id").doUpdateSet({ at_ms: row.at_ms, pid: row.pid }))
      .execute();
  };
}
