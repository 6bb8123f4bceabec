import { systemClock } from "../../shared/clock/clock.js";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "./store.js";
import { retention, silentLog as log } from "./testing/store-fixtures.js";

const SQLITE3 = "/usr/bin/sqlite3";
const dirs: string[] = [];
let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** This process's descriptors on files under `dir` whose file was unlinked under them. */
const deletedUnder = (dir: string) =>
  readdirSync("/proc/self/fd")
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return ""; // closed between the listing and the read
      }
    })
    .filter((target) => target.startsWith(dir) && target.endsWith("(deleted)"));

const query = (db: string, text: string) =>
  execFileSync(SQLITE3, [db, text], { encoding: "utf8", timeout: 10_000 }).trim();

// Issue 18: the write probe opened and closed the live files, which drops
// SQLite's fcntl locks, so the next process to close the database deleted
// the WAL under the gateway. A real sqlite3 process is what found it.
describe.skipIf(!existsSync(SQLITE3))("store on SQLite: another process reading", () => {
  it("keeps its locks through write probes: a sqlite3 query leaves the WAL in place and the writes land", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stallwatch-locks-"));
    dirs.push(dir);
    const db = join(dir, "stallwatch.db");
    const s = (store = await openStore({ path: db, log, retention, clock: systemClock }));
    const id = (i: number) => ({
      id: `e${i}`,
      at_ms: i,
      worker_id: "w",
      kind: "k",
      body: Buffer.from([]),
    });
    for (let i = 0; i < 5; i++) await s.db.insertInto("events").values(id(i)).execute();
    await s.probeWrite();
    expect(query(db, "select count(*) from events")).toBe("5");
    await s.probeWrite();
    expect(query(db, "PRAGMA integrity_check")).toBe("ok");
    for (let i = 5; i < 15; i++) await s.db.insertInto("events").values(id(i)).execute();
    expect(deletedUnder(dir)).toEqual([]);
    expect(existsSync(`${db}-wal`)).toBe(true);
    // What another process sees is what the gateway acknowledged.
    expect(query(db, "select count(*) from events")).toBe("15");
  });
});
