import { describe, expect, it } from "vitest";
import { FakeClock } from "../../testing/fake-clock.js";
import { silentLog as log } from "../store/testing/store-fixtures.js";
import type { Store } from "../store/store.js";
import { freshSqliteStore } from "./testing/sqlite-store.js";
import { Membership, type Member } from "./membership.js";

const LEASE_MS = 5_000;
const RENEW_MS = 1_000;

const member = (id: string): Member => ({
  gatewayId: id,
  peerUrl: `http://127.0.0.1:1/${id}`,
  httpUrl: `http://127.0.0.1:2/${id}`,
});
const ids = (members: readonly Member[]) => members.map((m) => m.gatewayId);

const currentStore = freshSqliteStore();

/**
 * Lets a renewal the fake clock started finish: it runs real SQLite queries,
 * which settle on the event loop, not in the fake clock's microtask hops.
 */
async function untilRenewed(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setImmediate(r));
  expect(check()).toBe(true);
}

/** Membership renewed by the fake clock's timer, on the shared SQLite store. */
function gatewayMember(
  id: string,
  clock: FakeClock,
  opts: { store?: Pick<Store, "db" | "guard">; onChange?: (m: readonly Member[]) => void } = {},
) {
  return new Membership({
    store: opts.store ?? currentStore(),
    self: member(id),
    leaseMs: LEASE_MS,
    renewMs: RENEW_MS,
    log,
    clock,
    ...(opts.onChange ? { onChange: opts.onChange } : {}),
  });
}

describe("cluster membership by leases (fake clock, SQLite)", () => {
  it("renews every renewMs, sees a newcomer at its next renewal, and drops one whose lease ran out", async () => {
    const store = currentStore();
    const clock = new FakeClock();
    // Counts finished renewals: the member list is read last.
    let renewals = 0;
    const counting: Pick<Store, "db" | "guard"> = {
      db: store.db,
      guard: async (what, fn) => {
        const result = await store.guard(what, fn);
        if (what === "read gateways") renewals += 1;
        return result;
      },
    };
    const seen: string[][] = [];
    const a = gatewayMember("gw-a", clock, { store: counting, onChange: (m) => seen.push(ids(m)) });
    await a.start();
    expect(ids(a.members())).toEqual(["gw-a"]);

    // gw-b registers once and then dies: it never renews (lease until t0 + 5 s).
    await gatewayMember("gw-b", clock).renew();
    expect(ids(a.members())).toEqual(["gw-a"]);
    const members: string[][] = [];
    for (let step = 1; step <= LEASE_MS / RENEW_MS; step++) {
      await clock.advance(RENEW_MS);
      // Exactly one renewal per renewMs.
      await untilRenewed(() => renewals === step + 1);
      members.push(ids(a.members()));
    }
    expect(members).toEqual([
      ["gw-a", "gw-b"],
      ["gw-a", "gw-b"],
      ["gw-a", "gw-b"],
      ["gw-a", "gw-b"],
      ["gw-a"],
    ]);
    expect(seen).toEqual([["gw-a"], ["gw-a", "gw-b"], ["gw-a"]]);
    await a.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it("counts itself out once its own lease lapses without a renewal, and back in when renewal works again", async () => {
    const store = currentStore();
    const clock = new FakeClock();
    let down = false;
    const flaky: Pick<Store, "db" | "guard"> = {
      db: store.db,
      guard: (what, fn) =>
        down ? Promise.reject(new Error("database down")) : store.guard(what, fn),
    };
    const changes: string[][] = [];
    const a = gatewayMember("gw-a", clock, { store: flaky, onChange: (m) => changes.push(ids(m)) });
    await a.start();
    down = true;
    for (let t = RENEW_MS; t < LEASE_MS; t += RENEW_MS) {
      await clock.advance(RENEW_MS);
      await untilRenewed(() => changes.length === t / RENEW_MS + 1);
      expect(ids(a.members())).toEqual(["gw-a"]);
    }
    await clock.advance(RENEW_MS);
    await untilRenewed(() => changes.length === LEASE_MS / RENEW_MS + 1);
    // Lease lapsed: it must not go on probing static workers as if it still held it.
    expect(ids(a.members())).toEqual([]);
    expect(changes.at(-1)).toEqual([]);

    down = false;
    await clock.advance(RENEW_MS);
    await untilRenewed(() => a.members().length === 1);
    await a.stop();
  });

  it("leaves at once on stop: the others drop it at their next renewal, not at its lease's end", async () => {
    const clock = new FakeClock();
    const a = gatewayMember("gw-a", clock);
    const b = gatewayMember("gw-b", clock);
    await a.start();
    await b.start();
    await clock.advance(RENEW_MS);
    await untilRenewed(() => a.members().length === 2);
    await b.stop();
    await clock.advance(RENEW_MS);
    await untilRenewed(() => a.members().length === 1);
    expect(ids(a.members())).toEqual(["gw-a"]);
    await a.stop();
  });
});
