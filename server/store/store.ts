import { gunzipSync, gzipSync } from "node:zlib";
import Database from "better-sqlite3";
import { clone, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FleetEventSchema, type FleetEvent } from "../../gen/stallwatch/v1/fleet_pb.js";
import {
  SnapshotInfoSchema,
  SnapshotSchema,
  type Snapshot,
} from "../../gen/stallwatch/v1/snapshot_pb.js";
import type { ActionStore } from "../actions/action-store.js";
import type { Logger } from "../logging/logger.js";
import type { SnapshotStore } from "../snapshots/snapshot-store.js";
import { createActionRows } from "./action-rows.js";
import { migrate } from "./migrations.js";
import { classifyStoreError, StoreFatalError } from "./store-errors.js";
import { createWriteProbe, prepareDatabaseFile } from "./store-files.js";

export interface StoreOptions {
  /** File path, or `:memory:` for tests. */
  path: string;
  log: Logger;
  retention: { snapshotsMs: number; eventsMs: number; auditMs: number };
  /**
   * `full` (default): a committed write survives power loss, which is what
   * "acknowledged means durable" needs for audit; ~5k commits/s here, plenty
   * for operator actions. `normal` survives a crash but not power loss.
   */
  durability?: "full" | "normal";
  /** Called once with the first fatal error (the gateway exits on it). */
  onFatal?: (err: StoreFatalError) => void;
  pruneIntervalMs?: number;
}

export interface ListFilter {
  workerId?: string;
  kind?: string;
  limit: number;
}

/** The gateway's durable state: events, audit, actions, snapshots. */
export interface Store extends ActionStore, SnapshotStore {
  appendEvents(events: FleetEvent[]): void;
  listEvents(filter: ListFilter): FleetEvent[];
  /**
   * Proves the store can still write (files writable, a row committed);
   * throws StoreFatalError, reported through `onFatal`, when it cannot.
   */
  probeWrite(): void;
  /** The fatal error that ended the store's usefulness, if one happened. */
  readonly fatal: StoreFatalError | undefined;
  prune(nowMs?: number): { snapshots: number; events: number; audit: number; actions: number };
  close(): void;
}

const clampLimit = (limit: number) => Math.max(1, Math.min(1000, Math.floor(limit) || 1));

/**
 * Opens (creating if needed) the SQLite database in WAL mode and applies
 * migrations. Every write is its own transaction and returns only once
 * committed; fatal SQLite errors surface as StoreFatalError and `onFatal`.
 */
export function openStore(opts: StoreOptions): Store {
  const { path, log } = opts;
  let db: Database.Database;
  try {
    if (path !== ":memory:") prepareDatabaseFile(path);
    db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${opts.durability === "normal" ? "NORMAL" : "FULL"}`);
    db.pragma("busy_timeout = 2000");
    db.pragma("foreign_keys = ON");
    migrate(db, path);
    // SQLite silently opens a file it may not write read-only; find out now,
    // not at the first operator action.
    createWriteProbe(db, path)();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const code = (err as { code?: unknown }).code;
    const hint =
      !(err instanceof StoreFatalError) && typeof code === "string" && /READONLY|PERM/.test(code)
        ? " (the file, its -wal/-shm or its directory is read-only, immutable, owned by another user, or on a read-only mount)"
        : "";
    throw new StoreFatalError(
      `cannot open the database at ${path}: ${reason}${hint}`,
      typeof code === "string" ? code : "OPEN",
      { cause: err },
    );
  }

  let fatalError: StoreFatalError | undefined;
  /** Runs a database operation; fatal errors are reported once and rethrown. */
  const guard = <T>(what: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      const classified = classifyStoreError(err, what);
      if (classified instanceof StoreFatalError && !fatalError) {
        fatalError = classified;
        log.fatal({ err: classified.message }, "database failure");
        opts.onFatal?.(classified);
      }
      throw classified;
    }
  };

  const st = {
    insertEvent: db.prepare(
      "INSERT OR IGNORE INTO events (id, at_ms, worker_id, kind, body) VALUES (?, ?, ?, ?, ?)",
    ),
    putSnapshot: db.prepare(
      "INSERT INTO snapshots (id, created_at_ms, expires_at_ms, info, body) VALUES (?, ?, ?, ?, ?)",
    ),
    getSnapshot: db.prepare("SELECT info, body FROM snapshots WHERE id = ? AND expires_at_ms > ?"),
    listSnapshots: db.prepare(
      "SELECT info FROM snapshots WHERE expires_at_ms > ? ORDER BY created_at_ms DESC LIMIT ?",
    ),
    deleteSnapshot: db.prepare("DELETE FROM snapshots WHERE id = ?"),
    pruneSnapshots: db.prepare("DELETE FROM snapshots WHERE expires_at_ms <= ?"),
    pruneEvents: db.prepare("DELETE FROM events WHERE at_ms < ?"),
    pruneAudit: db.prepare("DELETE FROM audit WHERE at_ms < ?"),
    // A RUNNING action is never pruned: reconciliation owns it.
    pruneActions: db.prepare("DELETE FROM actions WHERE started_at_ms < ? AND status != 1"),
  };
  const actions = createActionRows(db, guard);
  const probe = createWriteProbe(db, path);

  const insertEvents = db.transaction((events: FleetEvent[]) => {
    for (const e of events) {
      st.insertEvent.run(e.id, Number(e.atMs), e.workerId, e.kind, toBinary(FleetEventSchema, e));
    }
  });

  const store: Store = {
    appendEvents(events) {
      if (events.length > 0) guard("append events", () => insertEvents(events));
    },

    listEvents({ workerId, kind, limit }) {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (workerId) {
        where.push("worker_id = ?");
        params.push(workerId);
      }
      if (kind) {
        where.push("kind = ?");
        params.push(kind);
      }
      const sql = `SELECT body FROM events ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY at_ms DESC LIMIT ?`;
      const rows = guard(
        "list events",
        () => db.prepare(sql).all(...params, clampLimit(limit)) as { body: Buffer }[],
      );
      return rows.map((r) => fromBinary(FleetEventSchema, r.body));
    },

    ...actions,

    probeWrite() {
      guard("write probe", () => probe());
    },

    get fatal() {
      return fatalError;
    },

    putSnapshot(snapshot: Snapshot) {
      const info = snapshot.info;
      if (!info) throw new Error("a snapshot needs its info");
      // Series compress well (about 4x on a 1,000-worker fleet); the CPU cost is small next to the disk write.
      const body = gzipSync(toBinary(SnapshotSchema, snapshot), { level: 1 });
      const stored = clone(SnapshotInfoSchema, info);
      stored.sizeBytes = BigInt(body.length);
      guard("put snapshot", () =>
        st.putSnapshot.run(
          stored.id,
          Number(stored.createdAtMs),
          Number(stored.expiresAtMs),
          toBinary(SnapshotInfoSchema, stored),
          body,
        ),
      );
      snapshot.info = stored;
      return stored;
    },

    getSnapshot(id) {
      const row = guard(
        "get snapshot",
        () => st.getSnapshot.get(id, Date.now()) as { info: Buffer; body: Buffer } | undefined,
      );
      if (!row) return undefined;
      const snapshot = fromBinary(SnapshotSchema, gunzipSync(row.body));
      // The stored info carries the size, known only once the body was encoded.
      snapshot.info = fromBinary(SnapshotInfoSchema, row.info);
      return snapshot;
    },

    putSnapshotBody(info, body) {
      const stored = clone(SnapshotInfoSchema, info);
      stored.sizeBytes = BigInt(body.length);
      guard("put snapshot", () =>
        st.putSnapshot.run(
          stored.id,
          Number(stored.createdAtMs),
          Number(stored.expiresAtMs),
          toBinary(SnapshotInfoSchema, stored),
          body,
        ),
      );
      return Promise.resolve(stored);
    },

    getSnapshotBody(id) {
      const row = guard(
        "get snapshot",
        () => st.getSnapshot.get(id, Date.now()) as { info: Buffer; body: Buffer } | undefined,
      );
      return Promise.resolve(
        row && { info: fromBinary(SnapshotInfoSchema, row.info), body: row.body },
      );
    },

    listSnapshots(limit) {
      const rows = guard(
        "list snapshots",
        () => st.listSnapshots.all(Date.now(), clampLimit(limit)) as { info: Buffer }[],
      );
      return rows.map((r) => fromBinary(SnapshotInfoSchema, r.info));
    },

    deleteSnapshot(id) {
      return guard("delete snapshot", () => st.deleteSnapshot.run(id).changes > 0);
    },

    prune(nowMs = Date.now()) {
      return guard("prune", () => ({
        snapshots: st.pruneSnapshots.run(nowMs).changes,
        events: st.pruneEvents.run(nowMs - opts.retention.eventsMs).changes,
        audit: st.pruneAudit.run(nowMs - opts.retention.auditMs).changes,
        actions: st.pruneActions.run(nowMs - opts.retention.auditMs).changes,
      }));
    },

    close() {
      clearInterval(pruner);
      try {
        if (path !== ":memory:") db.pragma("wal_checkpoint(TRUNCATE)");
      } catch (err) {
        log.warn({ err: (err as Error).message }, "WAL checkpoint at close failed");
      }
      db.close();
    },
  };

  const pruned = store.prune();
  if (pruned.snapshots + pruned.events + pruned.audit > 0)
    log.info(pruned, "expired records pruned");
  const pruner = setInterval(
    () => {
      try {
        store.prune();
      } catch {
        // guard() already reported a fatal error; anything else retries next time
      }
    },
    opts.pruneIntervalMs ?? 60 * 60_000,
  );
  pruner.unref();
  log.info({ path, durability: opts.durability ?? "full" }, "database open");
  return store;
}
