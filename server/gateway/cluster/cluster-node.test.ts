import { describe, expect, it } from "vitest";
import { FakeClock } from "../../testing/fake-clock.js";
import { silentLog as log } from "../store/testing/store-fixtures.js";
import type { Store } from "../store/store.js";
import { freshSqliteStore } from "./testing/sqlite-store.js";
import { joinCluster } from "./cluster-node.js";

const LEASE_MS = 5_000;
const INTERVAL_MS = 1_000;

const currentStore = freshSqliteStore();

/** Lets work started by a fake timer that awaits real SQLite finish. */
async function settleIo(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
}

/** The static-worker assignment as the node drives it. */
function fakeAssignment() {
  const state = { rebalances: 0, members: (): readonly string[] => [] };
  return {
    state,
    setMembership: (_self: string, members: () => readonly string[]) => {
      state.members = members;
    },
    rebalance: () => void (state.rebalances += 1),
  };
}

describe("a gateway's part in the cluster (fake clock, SQLite)", () => {
  it("releases stale dial-in ids, probes its share, and drops every static worker once its own lease lapsed", async () => {
    const store = currentStore();
    const clock = new FakeClock();
    let down = false;
    const flaky: Store = {
      ...store,
      guard: (what, fn) =>
        down ? Promise.reject(new Error("database down")) : store.guard(what, fn),
    };
    let releases = 0;
    const assignment = fakeAssignment();
    const node = await joinCluster({
      store: flaky,
      self: { gatewayId: "gw-a", peerUrl: "http://127.0.0.1:1", httpUrl: "http://127.0.0.1:2" },
      leaseMs: LEASE_MS,
      intervalMs: INTERVAL_MS,
      staticWorkers: assignment,
      ownership: {
        claim: () => Promise.resolve(true),
        release: () => Promise.resolve(),
        releaseAll: () => Promise.resolve(void (releases += 1)),
      },
      log,
      clock,
    });
    expect(releases).toBe(1);
    expect(assignment.state.members()).toEqual(["gw-a"]);

    // The database goes away: no renewal, but the lapse check still runs every interval.
    down = true;
    const before = assignment.state.rebalances;
    for (let t = 0; t < LEASE_MS - INTERVAL_MS; t += INTERVAL_MS) {
      await clock.advance(INTERVAL_MS);
      await settleIo();
      expect(assignment.state.members()).toEqual(["gw-a"]);
    }
    await clock.advance(INTERVAL_MS);
    await settleIo();
    expect(assignment.state.members()).toEqual([]);
    expect(assignment.state.rebalances - before).toBeGreaterThanOrEqual(LEASE_MS / INTERVAL_MS);

    down = false;
    await node.leave();
    expect(releases).toBe(2);
    expect(clock.pendingTimers).toBe(0);
  });
});
