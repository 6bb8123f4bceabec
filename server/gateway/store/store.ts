import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Kysely } from "kysely";
import { FleetEventSchema, type FleetEvent } from "../../../gen/stallwatch/v1/fleet_pb.js";
import type { ActionStore } from "./action-store.js";
import { sleep, type Clock } from "../../shared/clock/clock.js";
import type { Logger } from "../../shared/logging/logger.js";
import type { SnapshotStore } from "./snapshot-store.js";
import { bytes, createActionRows } from "./action-rows.js";
import { createSnapshotRows } from "./snapshot-rows.js";
import { createPolicyRows } from "./policy-rows.js";
import type { PolicyStore } from "./policy-store.js";
import { connect, isPostgresUrl, redactUrl, type Connection } from "./connect.js";
import { migrate } from "./migrations.js";
import type { StoreDialect, StoreTables } from "./schema.js";
import { classifyStoreError, StoreFatalError } from "./store-errors.js";
import { createWriteProbe } from "./store-files.js";

export interface StoreOptions {
  /** A SQLite file path (`:memory:` for tests) or a `postgres://` URL. */
  path: string;
  log: Logger;
  retention: { snapshotsMs: number; eventsMs: number; auditMs: number };
  /**
   * SQLite only. `full` (default): a committed write survives power loss,
   * which is what "acknowledged means durable" needs for audit; ~5k
   * commits/s here, plenty for operator actions. `normal` survives a crash
   * but not power loss. PostgreSQL follows its server's own settings.
   */
  durability?: "full" | "normal";
  /** Called once with the first fatal error (the gateway exits on it). */
  onFatal?: (err: StoreFatalError) => void;
  pruneIntervalMs?: number;
  /** Drives pruning and its cadence (default: the system clock). */
  clock: Clock;
  /**
   * In a cluster: this gateway's id. Actions it records carry it, and
   * listUnfinishedActions returns only its own and those of gateways whose
   * lease ran out, so a gateway starting never reconciles a live peer's.
   */
  gatewayId?: string;
}

export interface ListFilter {
  workerId?: string;
  kind?: string;
  limit: number;
}

/** The gateway's durable state: events, audit, actions, snapshots. */
export interface Store extends ActionStore, SnapshotStore, PolicyStore {
  readonly dialect: StoreDialect;
  /**
   * The query layer, for modules that keep their own tables in this
   * database (server/gateway/cluster). Go through `guard` so fatal errors count.
   */
  readonly db: Kysely<StoreTables>;
  /** Runs `fn`; a fatal database error is reported once through `onFatal` and rethrown. */
  guard<T>(what: string, fn: () => Promise<T>): Promise<T>;
  /** Inserts events once each (a repeated id is ignored). */
  appendEvents(events: FleetEvent[]): Promise<void>;
  listEvents(filter: ListFilter): Promise<FleetEvent[]>;
  /**
   * Proves the store can still write (files writable, a row committed);
   * rejects with StoreFatalError, reported through `onFatal`, when it cannot.
   */
  probeWrite(): Promise<void>;
  /** The fatal error that ended the store's usefulness, if one happened. */
  readonly fatal: StoreFatalError | undefined;
  /** Operations through `guard` that failed since open, fatal or not (for /metrics). */
  readonly failures: number;
  prune(nowMs?: number): Promise<{
    snapshots: number;
    events: number;
    audit: number;
    actions: number;
    decisions: number;
  }>;
  close(): Promise<void>;
}

const clampLimit = (limit: number) => Math.max(1, Math.min(1000, Math.floor(limit) || 1));
/** Rows per INSERT: well under SQLite's 32,766 bound parameters, 5 per event. */
const EVENT_CHUNK = 500;
/** How long close() waits for operations under way before closing under them. */
const CLOSE_WAIT_MS = 5_000;

/**
 * Opens the database (creating a SQLite file if needed, in WAL mode) and
 * applies migrations, through one Kysely query layer for both SQLite and
 * PostgreSQL. Every write is its own transaction and resolves only once
 * committed; fatal errors surface as StoreFatalError and `onFatal`.
 */
export async function openStore(opts: StoreOptions): Promise<Store> {
  const { path, log } = opts;
  const clock = opts.clock;
  const shown = isPostgresUrl(path) ? redactUrl(path) : path;
  let conn: Connection | undefined;
  let probe: () => Promise<void>;
  try {
    conn = connect(path, opts.durability ?? "full");
    await migrate(conn.db, conn.dialect, conn.label, conn.transact);
    // SQLite silently opens a file it may not write read-only, and
    // PostgreSQL may be a read-only replica; find out now, not at the first
    // operator action.
    probe = createWriteProbe(conn.db, conn.sqlite ? path : undefined);
    await probe();
  } catch (err) {
    await conn?.db.destroy().catch(() => {});
    const reason = err instanceof Error ? err.message : String(err);
    const code = (err as { code?: unknown }).code;
    const hint =
      !(err instanceof StoreFatalError) && typeof code === "string" && /READONLY|PERM/.test(code)
        ? " (the file, its -wal/-shm or its directory is read-only, immutable, owned by another user, or on a read-only mount)"
        : "";
    throw new StoreFatalError(
      `cannot open the database at ${shown}: ${reason}${hint}`,
      typeof code === "string" ? code : "OPEN",
      { cause: err },
    );
  }
  const { db, dialect, sqlite, transact } = conn;

  let fatalError: StoreFatalError | undefined;
  let failures = 0;
  /** Operations under way, which close() lets finish (events flushed at shutdown). */
  const pending = new Set<Promise<unknown>>();
  const guard = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const op = fn();
    pending.add(op);
    try {
      return await op;
    } catch (err) {
      failures += 1;
      const classified = classifyStoreError(err, what);
      if (classified instanceof StoreFatalError && !fatalError) {
        fatalError = classified;
        log.fatal({ err: classified.message }, "database failure");
        opts.onFatal?.(classified);
      }
      throw classified;
    } finally {
      pending.delete(op);
    }
  };
  const actions = createActionRows(db, transact, guard, () => clock.now(), opts.gatewayId);
  const snapshots = createSnapshotRows(db, guard, () => clock.now());
  const policies = createPolicyRows(db, transact, guard, dialect, opts.gatewayId);

  const store: Store = {
    dialect,
    db,
    guard,

    async appendEvents(events) {
      if (events.length === 0) return;
      const rows = events.map((e) => ({
        id: e.id,
        at_ms: Number(e.atMs),
        worker_id: e.workerId,
        kind: e.kind,
        body: bytes(toBinary(FleetEventSchema, e)),
      }));
      await guard("append events", () =>
        transact(async (trx) => {
          for (let i = 0; i < rows.length; i += EVENT_CHUNK) {
            await trx
              .insertInto("events")
              .values(rows.slice(i, i + EVENT_CHUNK))
              .onConflict((oc) => oc.column("id").doNothing())
              .execute();
          }
        }),
      );
    },

    async listEvents({ workerId, kind, limit }) {
      let q = db.selectFrom("events").select("body");
      if (workerId) q = q.where("worker_id", "=", workerId);
      if (kind) q = q.where("kind", "=", kind);
      const rows = await guard("list events", () =>
        q.orderBy("at_ms", "desc").limit(clampLimit(limit)).execute(),
      );
      return rows.map((r) => fromBinary(FleetEventSchema, r.body));
    },

    ...actions,

    async probeWrite() {
      await guard("write probe", probe);
    },

    get fatal() {
      return fatalError;
    },

    get failures() {
      return failures;
    },

    ...snapshots,

    ...policies,

    async prune(nowMs = clock.now()) {
      return guard("prune", () =>
        transact(async (trx) => {
          const count = (r: { numDeletedRows: bigint }) => Number(r.numDeletedRows);
          return {
            snapshots: count(
              await trx
                .deleteFrom("snapshots")
                .where("expires_at_ms", "<=", nowMs)
                .executeTakeFirst(),
            ),
            events: count(
              await trx
                .deleteFrom("events")
                .where("at_ms", "<", nowMs - opts.retention.eventsMs)
                .executeTakeFirst(),
            ),
            audit: count(
              await trx
                .deleteFrom("audit")
                .where("at_ms", "<", nowMs - opts.retention.auditMs)
                .executeTakeFirst(),
            ),
            // A RUNNING action is never pruned: reconciliation owns it.
            actions: count(
              await trx
                .deleteFrom("actions")
                .where("started_at_ms", "<", nowMs - opts.retention.auditMs)
                .where("status", "!=", 1)
                .executeTakeFirst(),
            ),
            // Policy decisions live as long as the audit they explain.
            decisions: count(
              await trx
                .deleteFrom("policy_decisions")
                .where("at_ms", "<", nowMs - opts.retention.auditMs)
                .executeTakeFirst(),
            ),
          };
        }),
      );
    },

    async close() {
      pruner.cancel();
      await Promise.race([Promise.allSettled([...pending]), sleep(clock, CLOSE_WAIT_MS)]);
      try {
        if (sqlite && path !== ":memory:") sqlite.pragma("wal_checkpoint(TRUNCATE)");
      } catch (err) {
        log.warn({ err: (err as Error).message }, "WAL checkpoint at close failed");
      }
      // Kysely's SQLite driver closes the better-sqlite3 handle; pg ends its pool.
      await db.destroy();
    },
  };

  const pruned = await store.prune().catch((err: unknown) => {
    log.warn({ err: (err as Error).message }, "pruning at start failed");
    return { snapshots: 0, events: 0, audit: 0, actions: 0, decisions: 0 };
  });
  if (pruned.snapshots + pruned.events + pruned.audit > 0)
    log.info(pruned, "expired records pruned");
  const pruner = clock.every(opts.pruneIntervalMs ?? 60 * 60_000, () => {
    // guard() already reported a fatal error; anything else retries next time
    store.prune().catch(() => {});
  });
  log.info(
    { path: shown, dialect, ...(sqlite ? { durability: opts.durability ?? "full" } : {}) },
    "database open",
  );
  return store;
}
