import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProfileMode } from "../../../gen/stallwatch/v1/agent_pb.js";
import { engineSays } from "../../engine/execute-driver.js";
import { ActionStatus } from "../../../gen/stallwatch/v1/control_pb.js";
import { Liveness } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { apiClients } from "../../testing/api-clients.js";
import {
  OPERATOR_TOKEN,
  ownWorkers,
  startClusterGateway,
  type ClusterGateway,
} from "../../testing/cluster-harness.js";
import { startManageFarm, type ManageFarm } from "../../testing/manage-farm.js";
import { pollUntil } from "../../testing/poll.js";
import { arrowBatch, clientsFor, openSession } from "../../testing/protocol-fixtures.js";
import { startPostgres, type PostgresServer } from "../../testing/postgres.js";
import { killAllStarted } from "../../testing/spawn-stallwatch.js";
import { startTestWorker, startTestWorkers } from "../../testing/test-worker.js";

const LEASE_MS = 3000;
const INTERVAL_MS = 500;

describe("a gateway cluster on PostgreSQL, with real processes", () => {
  let pg: PostgresServer;
  let farm: ManageFarm;
  let db: string;
  let workers: string[];
  const gateways: ClusterGateway[] = [];
  const alive = () =>
    gateways.filter((g) => g.process.child.exitCode === null && !g.process.child.signalCode);
  const start = async (id: string) => {
    const g = await startClusterGateway(id, db, workers, {
      leaseMs: LEASE_MS,
      intervalMs: INTERVAL_MS,
    });
    gateways.push(g);
    return g;
  };

  /** Who probes what, once every worker has exactly one owner among the live gateways. */
  const settledOwnership = (timeoutMs = 15_000) =>
    pollUntil(
      async () => {
        const live = alive();
        // Static workers only: a dial-in worker that left stays listed as gone.
        const owned = (await Promise.all(live.map((g) => ownWorkers(g)))).map((ids) =>
          ids.filter((id) => workers.includes(id)),
        );
        const all = owned.flat();
        if (all.length !== workers.length || new Set(all).size !== workers.length) return undefined;
        return new Map(live.map((g, i) => [g.id, owned[i] ?? []]));
      },
      { timeoutMs, intervalMs: 100, what: "every worker owned exactly once" },
    );

  /** Every worker on `gateway`'s dashboard, once each. */
  const dashboardShowsAll = (gateway: ClusterGateway, timeoutMs = 15_000) =>
    pollUntil(
      async () => {
        const { workers: rows } = await apiClients(gateway.http).fleet.listWorkers(
          {},
          { timeoutMs: 2000 },
        );
        const ids = rows.map((w) => w.id);
        const complete = new Set(ids).size === ids.length && workers.every((w) => ids.includes(w));
        return complete ? rows : undefined;
      },
      {
        timeoutMs,
        intervalMs: 100,
        what: `${gateway.id}'s dashboard to show the whole fleet once`,
      },
    );

  /** Waits until `gateway` itself probes worker `id`. */
  const ownedBy = (gateway: ClusterGateway, id: string, timeoutMs?: number) =>
    pollUntil(async () => ((await ownWorkers(gateway)).includes(id) ? true : undefined), {
      timeoutMs,
      what: `${id} on ${gateway.id}`,
    });

  beforeAll(async () => {
    pg = await startPostgres();
    db = await pg.createDatabase();
    farm = await startManageFarm(24);
    // Two reference workers as well, for actions (they answer ShutdownRequest).
    const refs = await startTestWorkers(["ref-1", "ref-2"]);
    workers = [...farm.addresses, ...refs.map((r) => r.address)];
    await Promise.all(["gw-a", "gw-b", "gw-c"].map(start));
  });
  afterAll(async () => {
    killAllStarted();
    await farm.close();
    await pg.stop();
  });

  it("spreads the static workers over three gateways, and every dashboard shows the whole fleet once", async () => {
    const owners = await settledOwnership();
    expect([...owners.values()].every((ids) => ids.length > 0)).toBe(true);
    for (const g of gateways) await dashboardShowsAll(g);
  });

  it("routes an action through any gateway to the worker's owner, audited in the shared database", async () => {
    const owners = await settledOwnership();
    const target = workers.at(-1) ?? "";
    const owner = [...owners].find(([, ids]) => ids.includes(target))?.[0];
    const via = gateways.find((g) => g.id !== owner && alive().includes(g));
    if (!owner || !via) throw new Error("no owner or no other gateway");
    const { control } = apiClients(via.http, OPERATOR_TOKEN);
    const { action } = await control.drainWorker({
      actionId: "drain-through-a-peer",
      workerId: target,
      reason: "cluster test",
    });
    expect(action?.workerId).toBe(target);
    // Done by the owner: the worker drains and exits; every gateway's audit says so.
    const third = gateways.find((g) => g.id !== owner && g !== via) ?? via;
    const record = await pollUntil(
      async () => {
        const { records } = await apiClients(third.http).control.listAudit({ workerId: target });
        return records.find(
          (r) => r.actionId === "drain-through-a-peer" && r.result === ActionStatus.SUCCEEDED,
        );
      },
      { timeoutMs: 20_000, what: "the drain to succeed" },
    );
    expect(record.actor).toBe("operator (token)");
    const ended = await apiClients(via.http).fleet.getWorker({ workerId: target });
    expect(ended.detail?.worker?.liveness).toBe(Liveness.EXITED);
  });

  it("holds a dial-in worker id on one gateway: the same id announced to another is refused", async () => {
    const [a, , c] = gateways;
    if (!a || !c) throw new Error("missing gateways");
    const twin = (gateway: ClusterGateway) =>
      startTestWorker({ id: "twin", gateway: gateway.process.grpc });
    const first = await twin(a);
    await ownedBy(a, "twin");
    const second = await twin(c);
    const refused = await second.waitForLog((l) => String(l.reason).includes("another gateway"));
    expect(String(refused.reason)).toMatch(/already_exists|AlreadyExists/i);
    expect(await ownWorkers(c)).not.toContain("twin");
    expect(await ownWorkers(a)).toContain("twin");
    // Once the first lets go, the id is free for the second.
    await first.stop();
    await ownedBy(c, "twin", 20_000);
    await second.stop();
  });

  it("keeps a profile taken through one gateway in a snapshot taken through another", async () => {
    const [a, , c] = gateways;
    if (!a || !c) throw new Error("missing gateways");
    const worker = await startTestWorker({ id: "profiled", gateway: a.process.grpc });
    // A session spinning in user code: the UDF thread the profile samples.
    const { driver } = await openSession(clientsFor(worker.address).udf, { fn: "spin" });
    driver.send(engineSays.data(arrowBatch([1n])));
    try {
      await ownedBy(a, "profiled");
      const { profiles } = apiClients(a.http, OPERATOR_TOKEN);
      await profiles.startProfile({
        profileId: "cluster-profile-1",
        workerId: "profiled",
        mode: ProfileMode.WALL,
        durationMs: 1000,
        reason: "test",
      });
      const ended = await pollUntil(
        async () => {
          const { profile } = await profiles.getProfile({ profileId: "cluster-profile-1" });
          return profile && profile.status !== ActionStatus.RUNNING ? profile : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 200, what: "the profile to end on gw-a" },
      );
      expect(ended.status, ended.error).toBe(ActionStatus.SUCCEEDED);
      // gw-c owns neither the worker nor the profile: gw-a's shard brings both.
      const { snapshots } = apiClients(c.http, OPERATOR_TOKEN);
      const { info } = await snapshots.createSnapshot({ note: "a profile from a peer" });
      const { snapshot } = await snapshots.getSnapshot({
        id: info?.id ?? "",
        workerId: "profiled",
      });
      expect(snapshot?.profiles.map((p) => p.profileId)).toEqual(["cluster-profile-1"]);
      expect(snapshot?.profiles[0]?.result?.threads.length).toBeGreaterThan(0);
    } finally {
      driver.abort();
      await worker.stop();
    }
  });

  it("holds a Beam harness's id on one gateway too: another gateway refuses it until it is let go", async () => {
    const [a, , c] = gateways;
    if (!a || !c) throw new Error("missing gateways");
    const harness = (gateway: ClusterGateway) =>
      startTestWorker({ id: "beam-twin", flags: { "beam-status": gateway.process.grpc } });
    const first = await harness(a);
    await ownedBy(a, "beam-twin");
    const second = await harness(c);
    const refused = await c.process.waitForLog(
      (l) => l.msg === "beam status stream refused" && String(l.err).includes("another gateway"),
      20_000,
    );
    expect(refused.reason).toBe("duplicate_id");
    expect(await ownWorkers(c)).not.toContain("beam-twin");
    await first.stop();
    await ownedBy(c, "beam-twin", 30_000);
    await second.stop();
  });

  it("SIGKILL of one gateway: its workers are re-owned and probed again, once each, and another dashboard shows them all", async () => {
    const before = await settledOwnership();
    const victim = gateways.find((g) => g.id === "gw-b");
    if (!victim) throw new Error("no gw-b");
    const theirs = (before.get(victim.id) ?? []).filter((id) => farm.addresses.includes(id));
    const beatsBefore = new Map(theirs.map((id) => [id, farm.beats.get(id) ?? 0]));
    // A survivor's dashboard, sampled through the failover: never a worker short.
    const watcher = gateways.find((g) => g !== victim && alive().includes(g));
    if (!watcher) throw new Error("no other gateway");
    const sampling = { on: true }; // an object: TypeScript cannot see the loop's awaits change it
    const shortest: number[] = [];
    const sampler = (async () => {
      while (sampling.on) {
        const { workers: rows } = await apiClients(watcher.http).fleet.listWorkers({});
        shortest.push(rows.filter((w) => workers.includes(w.id)).length);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const killedAt = Date.now();
    victim.process.child.kill("SIGKILL");
    await victim.process.exited;

    const after = await settledOwnership(LEASE_MS * 4);
    sampling.on = false;
    await sampler;
    expect(Math.min(...shortest)).toBe(workers.length);
    const tookMs = Date.now() - killedAt;
    expect(after.has(victim.id)).toBe(false);
    // Probed again by their new owner.
    await pollUntil(
      () =>
        theirs.every(
          (id) => !beatsBefore.has(id) || (farm.beats.get(id) ?? 0) > (beatsBefore.get(id) ?? 0),
        )
          ? true
          : undefined,
      { timeoutMs: 5000, what: "the re-owned workers to be probed again" },
    );
    const survivor = alive()[0];
    if (!survivor) throw new Error("no survivor");
    await dashboardShowsAll(survivor, LEASE_MS * 2);
    // ...and shows them healthy, as their new owner sees them.
    await pollUntil(
      async () => {
        const { workers: rows } = await apiClients(survivor.http).fleet.listWorkers({});
        const mine = rows.filter((w) => beatsBefore.has(w.id));
        return mine.length === beatsBefore.size &&
          mine.every((w) => w.liveness === Liveness.HEALTHY)
          ? true
          : undefined;
      },
      { timeoutMs: 5000, what: "the re-owned workers to show healthy" },
    );
    // One owner each, so each re-owned worker's takeover is recorded once, not by two gateways.
    await new Promise((r) => setTimeout(r, 1500)); // events are written in batches
    const { events } = await apiClients(survivor.http).fleet.listEvents({
      kind: "liveness",
      limit: 1000,
    });
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of theirs) {
      const healthy = events.filter(
        (e) => e.workerId === id && Number(e.atMs) >= killedAt && e.toState === "healthy",
      );
      expect(healthy.length, `takeover events for ${id}`).toBeLessThanOrEqual(1);
    }
    // Its page keeps the history its dead owner recorded (events live in the database).
    const { detail } = await apiClients(survivor.http).fleet.getWorker({
      workerId: theirs[0] ?? "",
    });
    expect(detail?.events.some((e) => Number(e.atMs) < killedAt)).toBe(true);
    console.log(
      `re-owned ${theirs.length} workers ${tookMs} ms after SIGKILL (lease ${LEASE_MS} ms, interval ${INTERVAL_MS} ms)`,
    );
  });

  it("a snapshot taken during a failover holds every worker once", async () => {
    const d = await start("gw-d");
    await settledOwnership();
    await dashboardShowsAll(d);
    const victim = gateways.find((g) => g.id === "gw-c");
    const via = gateways.find((g) => g.id === "gw-a");
    if (!victim || !via) throw new Error("no gw-c or gw-a");
    victim.process.child.kill("SIGKILL");
    const { snapshots } = apiClients(via.http, OPERATOR_TOKEN);
    const { info } = await snapshots.createSnapshot({ note: "during failover" });
    const { snapshot } = await snapshots.getSnapshot({ id: info?.id ?? "" });
    const ids = snapshot?.workers.map((w) => w.id) ?? [];
    expect(new Set(ids).size).toBe(ids.length);
    // Every static worker (the dial-in one that left is there too, as gone).
    expect(ids.filter((id) => workers.includes(id)).sort()).toEqual([...workers].sort());
    expect(snapshot?.info?.workerCount).toBe(ids.length);
  });
});
