import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import Database from "better-sqlite3";

/** Debian's sqlite3 shell: another process, with its own locks, as an operator would run it. */
export const SQLITE3 = "/usr/bin/sqlite3";
export const HAVE_SQLITE3 = existsSync(SQLITE3);

/** One sqlite3 run, its output trimmed, or the error's first line. */
function sqlite3(db: string, command: string): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(
      SQLITE3,
      [db, command],
      { timeout: 10_000, encoding: "utf8" },
      (err, stdout, stderr) => {
        const out = (err ? stderr || err.message : stdout).trim();
        resolve({ ok: !err, out });
      },
    );
  });
}

export interface ReaderTally {
  /** sqlite3 processes that ran `select` and `PRAGMA integrity_check`. */
  queries: number;
  /** Runs that failed or whose integrity_check did not say ok; the first few texts. */
  notOk: number;
  problems: string[];
  /** Online backups taken (`sqlite3 DB ".backup copy"`), and the ids acknowledged before each began. */
  backups: { path: string; ackedBefore: string[]; ok: boolean; out: string }[];
}

/**
 * While writes are acknowledged, runs `sqlite3 DB "select …; PRAGMA
 * integrity_check"` in a loop, one process after another, plus one online
 * backup (`.backup`) in the middle. Every process that opens and closes the
 * database is a chance for it to checkpoint and delete a WAL whose owner's
 * locks were lost (issue 18), so this is what a gateway must survive.
 */
export function startConcurrentReader(opts: {
  db: string;
  backupTo: string;
  /** Ids acknowledged so far, read when the backup begins. */
  acked: () => string[];
  /** After how many queries the backup runs (default 2). */
  backupAfter?: number;
}): {
  /** Resolves once the backup is written (or failed), so a kill can be timed after it. */
  backedUp: Promise<void>;
  stop(): Promise<ReaderTally>;
} {
  const tally: ReaderTally = { queries: 0, notOk: 0, problems: [], backups: [] };
  const state = { stopped: false };
  let backedUp = () => {};
  const backupDone = new Promise<void>((resolve) => (backedUp = resolve));
  const query =
    "select count(*) from actions; select count(*) from snapshots; PRAGMA integrity_check;";
  const loop = (async () => {
    while (!state.stopped) {
      if (tally.queries === (opts.backupAfter ?? 2) && tally.backups.length === 0) {
        const ackedBefore = opts.acked();
        const run = await sqlite3(opts.db, `.backup '${opts.backupTo.replaceAll("'", "''")}'`);
        tally.backups.push({ path: opts.backupTo, ackedBefore, ...run });
        backedUp();
        continue;
      }
      const { ok, out } = await sqlite3(opts.db, query);
      tally.queries += 1;
      if (!ok || out.split("\n").at(-1) !== "ok") {
        tally.notOk += 1;
        if (tally.problems.length < 3) tally.problems.push(out.slice(0, 200));
      }
    }
    backedUp();
  })();
  return {
    backedUp: backupDone,
    async stop() {
      state.stopped = true;
      await loop;
      return tally;
    },
  };
}

export interface BackupCheck {
  /** integrity_check of each backup copy ("ok" when all are). */
  integrity: string;
  /** Ids acknowledged before a backup began that the copy does not hold. */
  missing: number;
}

/** Opens each backup copy on its own (a plain file now, no gateway) and checks it. */
export function checkBackups(backups: ReaderTally["backups"]): BackupCheck {
  let integrity = "ok";
  let missing = 0;
  for (const b of backups) {
    if (!b.ok) {
      integrity = `backup failed: ${b.out}`;
      continue;
    }
    const copy = new Database(b.path, { readonly: true, fileMustExist: true });
    try {
      const result = String(copy.pragma("integrity_check", { simple: true }));
      if (result !== "ok") integrity = result;
      const action = copy.prepare("SELECT 1 FROM actions WHERE action_id = ?");
      const snapshot = copy.prepare("SELECT 1 FROM snapshots WHERE id = ?");
      for (const id of b.ackedBefore) if (!action.get(id) && !snapshot.get(id)) missing += 1;
    } finally {
      copy.close();
    }
  }
  return { integrity, missing };
}
