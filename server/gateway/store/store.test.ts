import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ActionSchema } from "../../../gen/stallwatch/v1/control_pb.js";
import { openStore, type Store } from "./store.js";
import { StoreFatalError } from "./store-errors.js";
import { defineStoreSuite } from "./testing/store-suite.js";
import { retention, silentLog as log } from "./testing/store-fixtures.js";
import { makeUnwritable } from "../../testing/unwritable.js";
import { systemClock } from "../../shared/clock/clock.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const freshPath = () => {
  const dir = mkdtempSync(join(tmpdir(), "stallwatch-store-"));
  dirs.push(dir);
  return join(dir, "nested", "stallwatch.db");
};

describe("store on SQLite: the shared suite", () => {
  defineStoreSuite(() => Promise.resolve(freshPath()), { sharedByProcesses: false });
});

describe("store on SQLite: files", () => {
  let path: string;
  let store: Store | undefined;
  const open = async () => (store = await openStore({ clock: systemClock, path, log, retention }));

  beforeEach(() => {
    path = freshPath();
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it("creates the file in WAL mode", async () => {
    await (await open()).close();
    store = undefined;
    const db = new Database(path, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
  });

  it("reports an unwritable database as fatal, once, through onFatal", async () => {
    const fatal: StoreFatalError[] = [];
    const s = (store = await openStore({
      clock: systemClock,
      path,
      log,
      retention,
      onFatal: (e) => fatal.push(e),
    }));
    const act = (id: string) =>
      create(ActionSchema, { actionId: id, auditId: id, startedAtMs: BigInt(Date.now()) });
    await s.createAction(act("before"));
    // Not the -shm file: SQLite maps it into memory, and a write to an immutable mapping is a crash, not an error.
    const undo = makeUnwritable([path, `${path}-wal`]);
    try {
      await expect(s.createAction(act("x"))).rejects.toThrow(StoreFatalError);
      await expect(s.createAction(act("y"))).rejects.toThrow(StoreFatalError);
    } finally {
      undo();
    }
    expect(fatal).toHaveLength(1);
    expect(fatal[0]?.code).toMatch(/^SQLITE_(READONLY|IOERR|CANTOPEN|PERM)/);
  });

  it("creates the database 0600 in a 0700 directory, and proves it writes", async () => {
    await (await open()).probeWrite();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, "..")).mode & 0o777).toBe(0o700);
    expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
  });

  it("notices a database made read-only under open handles, and refuses to open it after", async () => {
    const fatal: StoreFatalError[] = [];
    const s = (store = await openStore({
      clock: systemClock,
      path,
      log,
      retention,
      onFatal: (e) => fatal.push(e),
    }));
    await s.probeWrite();
    const undo = makeUnwritable([path]);
    try {
      await expect(s.probeWrite()).rejects.toThrow(/is not writable \((EPERM|EACCES)\)/);
      expect(s.fatal).toBe(fatal[0]);
      await expect(openStore({ clock: systemClock, path, log, retention })).rejects.toThrow(
        /cannot open the database at .*read-only/,
      );
    } finally {
      undo();
    }
  });

  it("fails to open under a path that cannot be a directory, naming the path", async () => {
    const file = join(path, "..", "..", "plain-file");
    writeFileSync(file, "x");
    await expect(
      openStore({ clock: systemClock, path: join(file, "db.sqlite"), log, retention }),
    ).rejects.toThrow(/cannot open the database at .*plain-file/);
  });
});
