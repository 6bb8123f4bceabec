import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPostgres, type PostgresServer } from "../../testing/postgres.js";
import { openStore } from "./store.js";
import { StoreFatalError } from "./store-errors.js";
import { defineStoreSuite } from "./testing/store-suite.js";
import { retention, silentLog as log } from "./testing/store-fixtures.js";
import { systemClock } from "../../shared/clock/clock.js";

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server.stop();
});

describe("store on PostgreSQL: the shared suite", () => {
  defineStoreSuite(() => server.createDatabase(), { sharedByProcesses: true });
});

describe("store on PostgreSQL: connection failures", () => {
  it("fails to open an unreachable server, without printing its password", async () => {
    const err = await openStore({
      clock: systemClock,
      path: "postgres://stallwatch:secret-pw@127.0.0.1:1/nowhere",
      log,
      retention,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreFatalError);
    expect((err as Error).message).toMatch(
      /cannot open the database at postgres:\/\/stallwatch:\*\*\*@127\.0\.0\.1:1/,
    );
    expect((err as Error).message).not.toContain("secret-pw");
  });

  it("reports a server that went away as fatal, once, through onFatal", async () => {
    const own = await startPostgres();
    const fatal: StoreFatalError[] = [];
    const s = await openStore({
      clock: systemClock,
      path: await own.createDatabase(),
      log,
      retention,
      onFatal: (e) => fatal.push(e),
    });
    await s.probeWrite();
    await own.stop();
    await expect(s.probeWrite()).rejects.toThrow(StoreFatalError);
    await expect(s.listAudit({ limit: 1 })).rejects.toThrow(StoreFatalError);
    expect(fatal).toHaveLength(1);
    expect(s.fatal).toBe(fatal[0]);
    await s.close();
  });
});
