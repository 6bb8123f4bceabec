import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Liveness } from "../../../gen/stallwatch/v1/fleet_pb.js";
import {
  ownWorkers,
  startClusterGateway,
  type ClusterGateway,
} from "../../testing/cluster-harness.js";
import { fleetClient, waitForLiveness } from "../../testing/fleet-client.js";
import { pollUntil } from "../../testing/poll.js";
import { startPostgres, type PostgresServer } from "../../testing/postgres.js";
import { killAllStarted } from "../../testing/spawn-stallwatch.js";
import { startTestWorkers, type TestWorker } from "../../testing/test-worker.js";
import { startWebhookReceiver, type WebhookReceiver } from "../../testing/webhook-receiver.js";

/**
 * Issue 23: "in a cluster exactly one gateway sends each message". Two
 * gateways on one real PostgreSQL, both with the same webhook, two static
 * workers frozen (SIGSTOP) into an incident; then the owner of one is
 * SIGKILLed and the survivor takes it over, sees the same incident all over
 * again, and must not announce it twice.
 */
describe("notifications from a cluster on PostgreSQL, with real processes", () => {
  let pg: PostgresServer;
  let receiver: WebhookReceiver;
  let workers: [TestWorker, TestWorker];
  const gateways: ClusterGateway[] = [];

  beforeAll(async () => {
    pg = await startPostgres();
    const db = await pg.createDatabase();
    receiver = await startWebhookReceiver("ok");
    workers = await startTestWorkers(["n-1", "n-2"]);
    const addresses = workers.map((w) => w.address);
    for (const id of ["gw-a", "gw-b"])
      gateways.push(
        await startClusterGateway(id, db, addresses, {
          flags: { "notify-webhook": [receiver.url], "interval-ms": 300 },
          env: {
            STALLWATCH_NOTIFY_SECRET: "cluster-notify-secret-0123",
            // The receiver runs on loopback: allowed here on purpose.
            STALLWATCH_NOTIFY_ALLOW_PRIVATE: "true",
          },
        }),
      );
  }, 90_000);
  afterAll(async () => {
    for (const w of workers) w.child.kill("SIGCONT");
    receiver.stop();
    killAllStarted();
    await pg.stop();
  });

  const messages = (kind: string, worker: TestWorker) =>
    receiver.received.filter(
      (r) =>
        r.body.includes(`"kind":"${kind}"`) && r.body.includes(`"workerId":"${worker.address}"`),
    );

  it("sends each incident and each recovery once, also across a takeover", async () => {
    const owners = await pollUntil(
      async () => {
        const owned = await Promise.all(gateways.map((g) => ownWorkers(g)));
        const all = owned.flat().filter((id) => workers.some((w) => w.address === id));
        return all.length === 2 && new Set(all).size === 2 ? owned : undefined;
      },
      { timeoutMs: 20_000, what: "each worker owned by one gateway" },
    );
    for (const w of workers) w.child.kill("SIGSTOP");
    for (const w of workers)
      await pollUntil(() => messages("unresponsive", w)[0], {
        timeoutMs: 20_000,
        what: `the unresponsive message about ${w.address}`,
      });

    // Kill the owner of the first worker; the other gateway takes it over.
    const [first, second] = workers;
    const ownerIndex = owners.findIndex((ids) => ids.includes(first.address));
    const owner = gateways[ownerIndex];
    const survivor = gateways[1 - ownerIndex];
    if (!owner || !survivor) throw new Error("no owner for the first worker");
    owner.process.child.kill("SIGKILL");
    await pollUntil(
      async () => ((await ownWorkers(survivor)).includes(first.address) ? true : undefined),
      { timeoutMs: 30_000, what: `${survivor.id} to take ${first.address} over` },
    );
    // The survivor sees the frozen worker unresponsive all over again.
    await waitForLiveness(fleetClient(survivor.http), first.address, Liveness.UNRESPONSIVE, 20_000);
    await pollUntil(
      async () => {
        const text = await (await fetch(`http://${survivor.http}/metrics`)).text();
        return /stallwatch_notifications_dropped_total\{reason="duplicate"\} [1-9]/.test(text)
          ? true
          : undefined;
      },
      { timeoutMs: 20_000, what: "the survivor to judge it a duplicate" },
    );

    for (const w of workers) w.child.kill("SIGCONT");
    for (const w of workers)
      await pollUntil(() => messages("recovered", w)[0], {
        timeoutMs: 20_000,
        what: `the recovery of ${w.address}`,
      });
    // One of each per worker, whichever gateway sent it.
    for (const w of [first, second]) {
      expect(messages("unresponsive", w), w.address).toHaveLength(1);
      expect(messages("recovered", w), w.address).toHaveLength(1);
    }
  }, 150_000);
});
