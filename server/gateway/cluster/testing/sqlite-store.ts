import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { retention, silentLog } from "../../store/testing/store-fixtures.js";
import { openStore, type Store } from "../../store/store.js";
import { systemClock } from "../../../shared/clock/clock.js";

/**
 * A fresh SQLite store for each test of the file that calls this (the
 * cluster's tables exist on SQLite too), so lease logic is unit-tested
 * without PostgreSQL. Returns a getter: the store changes per test.
 */
export function freshSqliteStore(): () => Store {
  let dir: string | undefined;
  let store: Store | undefined;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "stallwatch-cluster-"));
    store = await openStore({
      path: join(dir, "stallwatch.db"),
      log: silentLog,
      retention,
      clock: systemClock,
    });
  });
  afterEach(async () => {
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (!store) throw new Error("the store exists only inside a test");
    return store;
  };
}
