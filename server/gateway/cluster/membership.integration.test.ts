import { create } from "@bufbuild/protobuf";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ActionSchema, ActionStatus } from "../../../gen/stallwatch/v1/control_pb.js";
import { openStore, type Store } from "../store/store.js";
import { retention, silentLog as log } from "../store/testing/store-fixtures.js";
import { startPostgres, type PostgresServer } from "../../testing/postgres.js";
import { Membership } from "./membership.js";
import { createClusterOwnership } from "./worker-ownership.js";
import { systemClock } from "../../shared/clock/clock.js";

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server.stop();
});

const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

/** Several gateways' stores on one PostgreSQL database. */
async function gatewaysOn(count: 2): Promise<[Store, Store]>;
async function gatewaysOn(count: 3): Promise<[Store, Store, Store]>;
async function gatewaysOn(count: number): Promise<Store[]> {
  const url = await server.createDatabase();
  const opened = await Promise.all(
    Array.from({ length: count }, () =>
      openStore({ clock: systemClock, path: url, log, retention }),
    ),
  );
  stores.push(...opened);
  return opened;
}

const member = (id: string) => ({
  gatewayId: id,
  peerUrl: `http://127.0.0.1:1/${id}`,
  httpUrl: `http://127.0.0.1:2/${id}`,
});

describe("membership by leases in PostgreSQL", () => {
  it("lists live gateways, drops one whose lease ran out, and forgets one that left", async () => {
    let clock = 1_000_000;
    // Lease time moved by hand, timers real: a clock whose now() the test sets.
    const leaseClock = { ...systemClock, now: () => clock };
    const [s1, s2, s3] = await gatewaysOn(3);
    const make = (store: Store, id: string) =>
      new Membership({
        clock: leaseClock,
        store,
        self: member(id),
        leaseMs: 5000,
        renewMs: 1000,
        log,
      });
    const a = make(s1, "gw-a");
    const b = make(s2, "gw-b");
    const c = make(s3, "gw-c");
    for (const m of [a, b, c]) await m.renew();
    await a.renew();
    expect(a.members().map((m) => m.gatewayId)).toEqual(["gw-a", "gw-b", "gw-c"]);

    // gw-b stops renewing (killed); the others carry on.
    clock += 4000;
    await a.renew();
    await c.renew();
    expect(a.members()).toHaveLength(3);
    clock += 1500;
    await a.renew();
    await c.renew();
    expect(a.members().map((m) => m.gatewayId)).toEqual(["gw-a", "gw-c"]);

    // gw-c leaves cleanly: gone at the next renewal, lease or not.
    await c.stop();
    await a.renew();
    expect(a.members().map((m) => m.gatewayId)).toEqual(["gw-a"]);

    // A gateway that could not renew in time leaves itself out.
    clock += 6000;
    expect(a.members()).toEqual([]);
  });
});

describe("dial-in worker ownership", () => {
  it("lets one live gateway hold an id; another may take it only once the holder's lease lapses", async () => {
    let clock = 2_000_000;
    // Lease time moved by hand, timers real: a clock whose now() the test sets.
    const leaseClock = { ...systemClock, now: () => clock };
    const [s1, s2] = await gatewaysOn(2);
    const a = new Membership({
      clock: leaseClock,
      store: s1,
      self: member("gw-a"),
      leaseMs: 5000,
      renewMs: 1000,
      log,
    });
    const b = new Membership({
      clock: leaseClock,
      store: s2,
      self: member("gw-b"),
      leaseMs: 5000,
      renewMs: 1000,
      log,
    });
    await a.renew();
    await b.renew();
    const ownA = createClusterOwnership(s1, "gw-a", leaseClock);
    const ownB = createClusterOwnership(s2, "gw-b", leaseClock);

    expect(await ownA.claim("agent-1")).toBe(true);
    expect(await ownA.claim("agent-1")).toBe(true); // its own reconnect
    expect(await ownB.claim("agent-1")).toBe(false);

    // Racing claims for a fresh id: exactly one wins.
    const race = await Promise.all([ownA.claim("agent-2"), ownB.claim("agent-2")]);
    expect(race.filter(Boolean)).toHaveLength(1);

    // A released id is free again.
    await ownA.release("agent-1");
    expect(await ownB.claim("agent-1")).toBe(true);

    // gw-b dies: once its lease passes, gw-a may take its ids.
    clock += 6000;
    await a.renew();
    expect(await ownA.claim("agent-1")).toBe(true);
    const rows = await s1.db.selectFrom("worker_owners").selectAll().execute();
    expect(rows.filter((r) => r.worker_id === "agent-1")).toHaveLength(1);

    await ownA.releaseAll();
    expect(await s1.db.selectFrom("worker_owners").selectAll().execute()).toEqual(
      rows.filter((r) => r.gateway_id !== "gw-a"),
    );
  });
});

describe("actions left running, in a cluster", () => {
  it("are reconciled by their own gateway, or by anyone once that gateway's lease ran out", async () => {
    const url = await server.createDatabase();
    const open = (gatewayId: string) =>
      openStore({ clock: systemClock, path: url, log, retention, gatewayId });
    const [a, b] = await Promise.all([open("gw-a"), open("gw-b")]);
    stores.push(a, b);
    const lease = (store: Store, id: string, leaseMs: number) =>
      new Membership({
        clock: systemClock,
        store,
        self: member(id),
        leaseMs,
        renewMs: 100,
        log,
      }).renew();
    await lease(a, "gw-a", 60_000);
    await lease(b, "gw-b", 60_000);
    const running = (id: string) =>
      create(ActionSchema, {
        actionId: id,
        auditId: `audit-${id}`,
        status: ActionStatus.RUNNING,
        startedAtMs: BigInt(Date.now()),
      });
    await a.createAction(running("of-a"));
    await b.createAction(running("of-b"));
    const ids = async (s: Store) => (await s.listUnfinishedActions()).map((x) => x.actionId);
    expect(await ids(a)).toEqual(["of-a"]);
    expect(await ids(b)).toEqual(["of-b"]);
    // gw-b's lease runs out (it died): gw-a takes its actions too.
    await lease(b, "gw-b", -1);
    expect((await ids(a)).sort()).toEqual(["of-a", "of-b"]);
  });
});
