import type { Command } from "../../shared/cli/command.js";
import { stringFlag } from "../../shared/cli/flags.js";
import { UsageError } from "../../shared/cli/usage-error.js";
import { STORE_SETTINGS } from "../config/store-settings.js";
import { backupSqlite } from "./online-backup.js";

export const backupCommand: Command = {
  name: "backup",
  summary: "copy a gateway's SQLite database safely, even while the gateway runs",
  help: `Usage: stallwatch backup --to FILE [--db PATH]

Copies the gateway's SQLite database to FILE through SQLite's online backup
API: consistent, and safe while a gateway is writing to it. Copying the
files with cp is not a backup (it can catch a write half-done, and misses
what is still in the -wal file). FILE must not exist (a backup never
overwrites one); it is written under a temporary name, checked with
PRAGMA integrity_check, and appears only when complete, as one
self-contained file. For PostgreSQL use pg_dump.

Exit codes: 0 written, 2 bad flags (no database at --db, FILE exists, its
directory missing or not writable), 1 the copy failed.

Flags:
  --db PATH    the database (default: $STALLWATCH_DB, else ${STORE_SETTINGS.db.fallback})
  --to FILE    where the copy goes; must not exist
  -h, --help   show this help`,
  options: {
    db: { type: "string" },
    to: { type: "string" },
  },
  async run(flags, log) {
    const db = stringFlag(flags, "db") ?? process.env.STALLWATCH_DB ?? STORE_SETTINGS.db.fallback;
    const to = stringFlag(flags, "to");
    if (!to) throw new UsageError("--to FILE is required");
    const started = performance.now();
    const { pages, bytes } = await backupSqlite(db, to);
    log.info(
      { db, to, pages, bytes, ms: Math.round(performance.now() - started) },
      "backup written",
    );
    return { stop: () => Promise.resolve(), done: Promise.resolve(0) };
  },
};
