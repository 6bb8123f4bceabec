// Cluster failover: three gateways on a throw-away PostgreSQL share a farm
// of static workers; SIGKILL one, and time how long until every worker it
// probed is owned by a survivor, and until each was probed again. Target:
// within lease + one cluster interval. Printed, never asserted.
// STALLWATCH_CLUSTER_BENCH_WORKERS / _TRIALS override the sizes.
import {
  ownWorkers,
  startClusterGateway,
  type ClusterGateway,
} from "../server/testing/cluster-harness.js";
import { COMPILED_CLI } from "../server/testing/crash-trials.js";
import { startManageFarm } from "../server/testing/manage-farm.js";
import { startPostgres } from "../server/testing/postgres.js";
import { killAllStarted } from "../server/testing/spawn-stallwatch.js";
import { percentile, table } from "./harness.js";

const WORKERS = Number(process.env.STALLWATCH_CLUSTER_BENCH_WORKERS ?? 300);
const TRIALS = Number(process.env.STALLWATCH_CLUSTER_BENCH_TRIALS ?? 5);
const SETTINGS = [
  { leaseMs: 3000, intervalMs: 500 },
  { leaseMs: 10_000, intervalMs: 2000 }, // the defaults
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function owners(gateways: ClusterGateway[]): Promise<Map<string, string[]> | undefined> {
  const owned = await Promise.all(gateways.map((g) => ownWorkers(g).catch(() => undefined)));
  if (owned.some((o) => o === undefined)) return undefined;
  const all = owned.flat() as string[];
  if (all.length !== WORKERS || new Set(all).size !== WORKERS) return undefined;
  return new Map(gateways.map((g, i) => [g.id, owned[i] ?? []]));
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(20);
  }
}

const pg = await startPostgres();
const farm = await startManageFarm(WORKERS);
const rows: Record<string, string | number>[] = [];
try {
  for (const { leaseMs, intervalMs } of SETTINGS) {
    const db = await pg.createDatabase();
    const start = (id: string) =>
      startClusterGateway(id, db, farm.addresses, { leaseMs, intervalMs, cli: COMPILED_CLI });
    const gateways = await Promise.all(["gw-a", "gw-b", "gw-c"].map(start));
    const reowned: number[] = [];
    const reprobed: number[] = [];
    let moved = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const before = await waitFor(() => owners(gateways), 30_000);
      const victim = gateways[trial % gateways.length];
      if (!victim) break;
      const theirs = new Set(before.get(victim.id) ?? []);
      const firstBeat = new Map<string, number>();
      const killedAt = Date.now();
      farm.onBeat = (address, at) => {
        if (at > killedAt && theirs.has(address) && !firstBeat.has(address))
          firstBeat.set(address, at);
      };
      victim.process.child.kill("SIGKILL");
      await victim.process.exited;
      const survivors = gateways.filter((g) => g !== victim);
      await waitFor(() => owners(survivors), leaseMs * 5);
      reowned.push(Date.now() - killedAt);
      await waitFor(
        () => Promise.resolve(firstBeat.size === theirs.size ? true : undefined),
        10_000,
      );
      reprobed.push(Math.max(...firstBeat.values()) - killedAt);
      moved += theirs.size;
      farm.onBeat = undefined;
      // Back to three, under the same name, for the next trial.
      gateways[gateways.indexOf(victim)] = await start(victim.id);
    }
    rows.push({
      "lease / interval (ms)": `${leaseMs} / ${intervalMs}`,
      trials: reowned.length,
      "workers moved per trial": Math.round(moved / Math.max(1, reowned.length)),
      "SIGKILL -> all re-owned p50 (ms)": Math.round(percentile(reowned, 50)),
      "SIGKILL -> all probed again p50 (ms)": Math.round(percentile(reprobed, 50)),
      "probed again max (ms)": Math.max(...reprobed),
      "target: lease + interval (ms)": leaseMs + intervalMs,
    });
    for (const g of gateways) g.process.child.kill("SIGKILL");
    await Promise.all(gateways.map((g) => g.process.exited));
  }
  console.log(`cluster failover: 3 gateways, ${WORKERS} static workers`);
  table(rows);
} finally {
  killAllStarted();
  await farm.close();
  await pg.stop();
}
