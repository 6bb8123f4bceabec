import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, equals } from "@bufbuild/protobuf";
import Database from "better-sqlite3";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ActionKind, ActionSchema, ActionStatus } from "../../gen/stallwatch/v1/control_pb.js";
import { FleetEventSchema } from "../../gen/stallwatch/v1/fleet_pb.js";
import { SnapshotSchema } from "../../gen/stallwatch/v1/snapshot_pb.js";
import { openStore, type Store } from "./store.js";
import { StoreFatalError } from "./store-errors.js";
import { makeUnwritable } from "../testing/unwritable.js";

const log = pino({ level: "silent" });
const retention = {
  snapshotsMs: 30 * 86_400_000,
  eventsMs: 7 * 86_400_000,
  auditMs: 90 * 86_400_000,
};

describe("SQLite store", () => {
  let dir: string;
  let path: string;
  let store: Store | undefined;
  const open = () => (store = openStore({ path, log, retention }));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "stallwatch-store-"));
    path = join(dir, "nested", "stallwatch.db");
  });
  afterEach(() => {
    store?.close();
    store = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates the file in WAL mode and records its migrations once", () => {
    open().close();
    open().close();
    store = undefined;
    const db = new Database(path, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.prepare("SELECT version FROM schema_migrations").all()).toEqual([
      { version: 1 },
      { version: 2 },
    ]);
    db.close();
  });

  it("refuses a database written by a newer version", () => {
    open().close();
    store = undefined;
    const db = new Database(path);
    db.prepare("INSERT INTO schema_migrations VALUES (99, 0)").run();
    db.close();
    expect(() => open()).toThrow(/schema version 99, newer than this Stallwatch knows/);
  });

  it("keeps audit, actions, events and snapshots across a restart", () => {
    const s = open();
    const action = create(ActionSchema, {
      actionId: "a-1",
      auditId: "au-1",
      actor: "alice",
      kind: ActionKind.DRAIN_WORKER,
      workerId: "w1",
      status: ActionStatus.RUNNING,
      startedAtMs: BigInt(Date.now()),
    });
    s.createAction(action);
    s.saveAction({ ...action, status: ActionStatus.SUCCEEDED, outcome: "drained" });
    s.appendEvents([
      create(FleetEventSchema, {
        id: "e-1",
        atMs: BigInt(Date.now()),
        workerId: "w1",
        kind: "liveness",
        summary: "late",
      }),
    ]);
    const snapshot = create(SnapshotSchema, {
      info: {
        id: "snap-aaaaaaaaaaaaaaaaaaaaaa",
        createdAtMs: BigInt(Date.now()),
        expiresAtMs: BigInt(Date.now() + 60_000),
        createdBy: "alice",
        workerCount: 1,
      },
      workers: [{ id: "w1", address: "127.0.0.1:1" }],
    });
    const info = s.putSnapshot(snapshot);
    expect(info.sizeBytes).toBeGreaterThan(0n);
    s.close();

    const again = open();
    expect(again.getAction("a-1")?.kind).toBe(ActionKind.DRAIN_WORKER);
    expect(again.listAudit({ limit: 10 })[0]).toMatchObject({
      id: "au-1",
      result: ActionStatus.SUCCEEDED,
      outcome: "drained",
    });
    expect(again.listEvents({ workerId: "w1", limit: 10 }).map((e) => e.id)).toEqual(["e-1"]);
    const loaded = again.getSnapshot("snap-aaaaaaaaaaaaaaaaaaaaaa");
    expect(loaded && equals(SnapshotSchema, loaded, snapshot)).toBe(true);
    expect(again.listSnapshots(10).map((i) => i.id)).toEqual(["snap-aaaaaaaaaaaaaaaaaaaaaa"]);
  });

  it("filters and orders audit newest first, and caps limits", () => {
    const s = open();
    for (let i = 0; i < 5; i++) {
      s.createAction(
        create(ActionSchema, {
          actionId: `x${i}`,
          auditId: `a${i}`,
          startedAtMs: BigInt(1000 + i),
          actor: i % 2 ? "bob" : "alice",
          kind: ActionKind.CANCEL_SESSION,
          workerId: `w${i % 2}`,
        }),
      );
    }
    expect(s.listAudit({ limit: 10 }).map((r) => r.id)).toEqual(["a4", "a3", "a2", "a1", "a0"]);
    expect(s.listAudit({ actor: "bob", limit: 10 }).map((r) => r.id)).toEqual(["a3", "a1"]);
    expect(s.listAudit({ workerId: "w0", limit: 1 }).map((r) => r.id)).toEqual(["a4"]);
    expect(s.listAudit({ kind: ActionKind.DRAIN_WORKER, limit: 10 })).toEqual([]);
  });

  it("prunes exactly what expired and hides expired snapshots", () => {
    const s = open();
    const now = Date.now();
    const put = (id: string, expires: number) =>
      s.putSnapshot(
        create(SnapshotSchema, {
          info: { id, createdAtMs: BigInt(now), expiresAtMs: BigInt(expires) },
        }),
      );
    put("old", now - 1);
    put("new", now + 60_000);
    s.appendEvents([
      create(FleetEventSchema, {
        id: "e-old",
        atMs: BigInt(now - retention.eventsMs - 1),
        workerId: "w",
        kind: "x",
      }),
      create(FleetEventSchema, { id: "e-new", atMs: BigInt(now), workerId: "w", kind: "x" }),
    ]);
    expect(s.getSnapshot("old")).toBeUndefined();
    expect(s.prune(now)).toMatchObject({ snapshots: 1, events: 1 });
    expect(s.listSnapshots(10).map((i) => i.id)).toEqual(["new"]);
    expect(s.listEvents({ limit: 10 }).map((e) => e.id)).toEqual(["e-new"]);
  });

  it("deletes snapshots and says whether one existed", () => {
    const s = open();
    s.putSnapshot(
      create(SnapshotSchema, { info: { id: "x", expiresAtMs: BigInt(Date.now() + 60_000) } }),
    );
    expect(s.deleteSnapshot("x")).toBe(true);
    expect(s.deleteSnapshot("x")).toBe(false);
    expect(s.getSnapshot("x")).toBeUndefined();
  });

  it("reports an unwritable database as fatal, once, through onFatal", () => {
    const fatal: StoreFatalError[] = [];
    const s = (store = openStore({ path, log, retention, onFatal: (e) => fatal.push(e) }));
    const act = (id: string) =>
      create(ActionSchema, { actionId: id, auditId: id, startedAtMs: BigInt(Date.now()) });
    s.createAction(act("before"));
    // Not the -shm file: SQLite maps it into memory, and a write to an immutable mapping is a crash, not an error.
    const undo = makeUnwritable([path, `${path}-wal`]);
    try {
      expect(() => s.createAction(act("x"))).toThrow(StoreFatalError);
      expect(() => s.createAction(act("y"))).toThrow(StoreFatalError);
    } finally {
      undo();
    }
    expect(fatal).toHaveLength(1);
    expect(fatal[0]?.code).toMatch(/^SQLITE_(READONLY|IOERR|CANTOPEN|PERM)/);
  });

  it("writes an action and its audit record together, and lists what is left running", () => {
    const s = open();
    const running = create(ActionSchema, {
      actionId: "r-1",
      auditId: "au-r1",
      actor: "alice",
      kind: ActionKind.CANCEL_SESSION,
      workerId: "w1",
      sessionId: "s1",
      status: ActionStatus.RUNNING,
      outcome: "started",
      startedAtMs: 5n,
    });
    s.createAction(running);
    s.createAction({ ...running, actionId: "r-2", auditId: "au-r2", startedAtMs: 6n });
    expect(() => s.createAction({ ...running, auditId: "au-other" })).toThrow(/UNIQUE/);
    // The failed insert took nothing with it: no orphan audit record.
    expect(s.listAudit({ limit: 10 }).map((r) => r.id)).toEqual(["au-r2", "au-r1"]);
    s.saveAction({ ...running, status: ActionStatus.INTERRUPTED, outcome: "interrupted: x" });
    expect(s.listUnfinishedActions().map((a) => a.actionId)).toEqual(["r-2"]);
    const audit = s.listAudit({ limit: 10 }).find((r) => r.id === "au-r1");
    expect(audit).toMatchObject({ result: ActionStatus.INTERRUPTED, outcome: "interrupted: x" });
    // A retry links both ways in one transaction.
    const retry = {
      ...running,
      actionId: "r-3",
      auditId: "au-r3",
      retryOf: "r-1",
      startedAtMs: 7n,
    };
    s.createAction(retry, [{ ...running, status: ActionStatus.INTERRUPTED, retriedBy: "r-3" }]);
    expect(s.getAction("r-1")?.retriedBy).toBe("r-3");
    expect(s.listAudit({ limit: 1 })[0]?.retryOf).toBe("r-1");
    // Pruning never takes an action that is still running.
    expect(s.prune(Date.now() + 100 * 86_400_000).actions).toBe(1);
    expect(s.getAction("r-2")).toBeDefined();
  });

  it("creates the database 0600 in a 0700 directory, and proves it writes", () => {
    open().probeWrite();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "nested")).mode & 0o777).toBe(0o700);
    expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
  });

  it("notices a database made read-only under open handles, and refuses to open it after", () => {
    const fatal: StoreFatalError[] = [];
    const s = (store = openStore({ path, log, retention, onFatal: (e) => fatal.push(e) }));
    s.probeWrite();
    const undo = makeUnwritable([path]);
    try {
      expect(() => s.probeWrite()).toThrow(/cannot be opened for writing/);
      expect(s.fatal).toBe(fatal[0]);
      expect(() => openStore({ path, log, retention })).toThrow(
        /cannot open the database at .*read-only/,
      );
    } finally {
      undo();
    }
  });

  it("fails to open under a path that cannot be a directory, naming the path", () => {
    const file = join(dir, "plain-file");
    writeFileSync(file, "x");
    expect(() => openStore({ path: join(file, "db.sqlite"), log, retention })).toThrow(
      new RegExp(`cannot open the database at ${file.replace(/[/.]/g, "\\$&")}`),
    );
  });
});
