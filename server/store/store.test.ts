import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, equals } from "@bufbuild/protobuf";
import Database from "better-sqlite3";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ActionKind,
  ActionSchema,
  ActionStatus,
  AuditRecordSchema,
} from "../../gen/stallwatch/v1/control_pb.js";
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
    expect(db.prepare("SELECT version FROM schema_migrations").all()).toEqual([{ version: 1 }]);
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
      kind: ActionKind.DRAIN_WORKER,
      workerId: "w1",
      status: ActionStatus.RUNNING,
      startedAtMs: BigInt(Date.now()),
    });
    s.putAction(action);
    s.appendAudit(
      create(AuditRecordSchema, {
        id: "au-1",
        atMs: BigInt(Date.now()),
        actor: "alice",
        kind: ActionKind.DRAIN_WORKER,
        workerId: "w1",
        result: ActionStatus.RUNNING,
      }),
    );
    s.updateAudit("au-1", { result: ActionStatus.SUCCEEDED, outcome: "drained" });
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
      s.appendAudit(
        create(AuditRecordSchema, {
          id: `a${i}`,
          atMs: BigInt(1000 + i),
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
    s.appendAudit(create(AuditRecordSchema, { id: "before", atMs: 1n }));
    // Not the -shm file: SQLite maps it into memory, and a write to an immutable mapping is a crash, not an error.
    const undo = makeUnwritable([path, `${path}-wal`]);
    try {
      expect(() => s.appendAudit(create(AuditRecordSchema, { id: "x", atMs: 1n }))).toThrow(
        StoreFatalError,
      );
      expect(() => s.appendAudit(create(AuditRecordSchema, { id: "y", atMs: 1n }))).toThrow(
        StoreFatalError,
      );
    } finally {
      undo();
    }
    expect(fatal).toHaveLength(1);
    expect(fatal[0]?.code).toMatch(/^SQLITE_(READONLY|IOERR|CANTOPEN|PERM)/);
  });

  it("fails to open under a path that cannot be a directory, naming the path", () => {
    const file = join(dir, "plain-file");
    writeFileSync(file, "x");
    expect(() => openStore({ path: join(file, "db.sqlite"), log, retention })).toThrow(
      new RegExp(`cannot open the database at ${file.replace(/[/.]/g, "\\$&")}`),
    );
  });
});
