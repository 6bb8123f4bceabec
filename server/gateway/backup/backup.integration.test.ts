import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { apiClients } from "../../testing/api-clients.js";
import { freshDbPath, killAllStarted, runStallwatch } from "../../testing/spawn-stallwatch.js";
import { startTestGateway } from "../../testing/test-gateway.js";
import { makeUnwritable } from "../../testing/unwritable.js";

const TOKEN = "backup-operator-token";
afterAll(() => killAllStarted());

/** The gateway's descriptors on files unlinked under it (issue 18: a WAL deleted under the writer). */
const deletedFilesOf = (pid: number) =>
  readdirSync(`/proc/${pid}/fd`)
    .map((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return ""; // closed between the listing and the read
      }
    })
    .filter((target) => target.endsWith("(deleted)") && target.includes("stallwatch"));

describe("stallwatch backup", () => {
  it("copies a live gateway's database while it acknowledges writes: every write acknowledged before is in the copy, which passes integrity_check, and the gateway keeps its WAL", async () => {
    const db = freshDbPath();
    const gateway = await startTestGateway({
      db,
      operatorToken: TOKEN,
      flags: { "snapshots-per-minute": 100_000, "snapshots-per-minute-total": 100_000 },
    });
    const { snapshots } = apiClients(gateway.http, TOKEN);
    const acked: string[] = [];
    const writing = { on: true };
    const writer = (async () => {
      for (let i = 0; writing.on; i++) {
        const { info } = await snapshots.createSnapshot({ note: `w${i}` });
        if (info) acked.push(info.id);
      }
    })();
    while (acked.length < 20)
      await snapshots
        .createSnapshot({ note: "before" })
        .then(({ info }) => info && acked.push(info.id));
    const before = [...acked];
    const to = join(dirname(db), "copies", "backup.db");
    mkdirSync(dirname(to));
    const run = await runStallwatch(
      ["backup", "--db", db, "--to", to, "--log-format", "json"],
      60_000,
    );
    const during = acked.length;
    writing.on = false;
    await writer;
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const line = JSON.parse(run.stdout.trim().split("\n")[0] ?? "{}") as Record<string, unknown>;
    expect(line).toMatchObject({ msg: "backup written", to, pages: expect.any(Number) as number });
    // Writes went on while the backup ran.
    expect(acked.length).toBeGreaterThan(before.length);
    expect(during).toBeGreaterThan(before.length);

    const copy = new Database(to, { readonly: true, fileMustExist: true });
    try {
      expect(copy.pragma("integrity_check", { simple: true })).toBe("ok");
      expect(copy.pragma("journal_mode", { simple: true })).toBe("delete");
      const has = copy.prepare("SELECT 1 FROM snapshots WHERE id = ?");
      expect(before.filter((id) => !has.get(id))).toEqual([]);
    } finally {
      copy.close();
    }
    // One self-contained file, nothing temporary left beside it.
    expect(readdirSync(dirname(to))).toEqual(["backup.db"]);
    // The live gateway lost nothing: its WAL is still the file on disk, and every write is there.
    expect(deletedFilesOf(gateway.pid)).toEqual([]);
    expect(await gateway.stop()).toBe(0);
    const live = new Database(db, { readonly: true });
    try {
      const has = live.prepare("SELECT 1 FROM snapshots WHERE id = ?");
      expect(acked.filter((id) => !has.get(id))).toEqual([]);
    } finally {
      live.close();
    }
  });

  it("refuses with exit 2 and a precise message: no --to, no database (none created), an existing target (left as it was), an unwritable or missing directory, PostgreSQL", async () => {
    const db = freshDbPath();
    const dir = dirname(db);
    const fail = async (args: string[], message: RegExp) => {
      const run = await runStallwatch(["backup", ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
    };
    await fail(["--db", db], /--to FILE is required/);
    await fail(
      ["--db", db, "--to", join(dir, "b.db")],
      /--db: no SQLite database at .*stallwatch\.db/,
    );
    expect(existsSync(db)).toBe(false);

    const gateway = await startTestGateway({ db });
    const existing = join(dir, "taken.db");
    writeFileSync(existing, "an earlier backup");
    await fail(
      ["--db", db, "--to", existing],
      /--to: .*taken\.db exists; a backup never overwrites/,
    );
    expect(readFileSync(existing, "utf8")).toBe("an earlier backup");
    await fail(
      ["--db", db, "--to", join(dir, "nowhere", "b.db")],
      /--to: cannot write into .*nowhere \(no such directory\)/,
    );
    const locked = join(dir, "locked");
    mkdirSync(locked);
    const undo = makeUnwritable([locked]);
    try {
      await fail(
        ["--db", db, "--to", join(locked, "b.db")],
        /--to: cannot write into .*locked \((EPERM|EACCES)\)/,
      );
    } finally {
      undo();
    }
    await fail(["--db", "postgres://u:p@127.0.0.1:1/x", "--to", join(dir, "b.db")], /pg_dump/);
    expect(await gateway.stop()).toBe(0);
  });

  it("--help says how, and that cp is not a backup", async () => {
    const run = await runStallwatch(["backup", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/online backup\s+API/);
    expect(run.stdout).toMatch(/cp is not a backup/);
  });
});
