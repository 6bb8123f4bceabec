import { Liveness } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fleetClient, waitForLiveness } from "../../testing/fleet-client.js";
import { pollUntil } from "../../testing/poll.js";
import { killAllStarted } from "../../testing/spawn-stallwatch.js";
import { startTestGateway, type TestGateway } from "../../testing/test-gateway.js";
import { startTestWorker, startTestWorkers, type TestWorker } from "../../testing/test-worker.js";
import { startTestHarness } from "../beam-text/testing/fixture-harness.js";

const MiB = 1 << 20;
/** Just under the gateway's 1 MiB kept per answer, so nothing is cut before the parser. */
const BIG = MiB - 64;

const PAYLOADS: Record<string, string> = {
  "a 1 MiB line of =": "=".repeat(BIG),
  "1 MiB of deep brackets": "[".repeat(BIG / 2) + "]".repeat(BIG / 2),
  "NUL padding after a banner": `========== THREAD DUMP ==========\n${"\0".repeat(BIG)}`,
  "banner-like lines, many": `${"=".repeat(40)} x ${"=".repeat(40)}\n`.repeat(BIG / 100),
};

describe("hostile Beam peers against a real gateway with 20 real workers", () => {
  let gateway: TestGateway;
  let client: ReturnType<typeof fleetClient>;
  let grpc: string;
  let http: string;
  const workers: TestWorker[] = [];

  beforeAll(async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `hb-${i}`);
    workers.push(...(await startTestWorkers(ids, { startTimeoutMs: 60_000 })));
    gateway = await startTestGateway({ workers: workers.map((w) => w.address) });
    ({ http, grpc } = gateway);
    client = fleetClient(http);
    await pollUntil(
      async () => {
        const { workers: ws } = await client.listWorkers({});
        return ws.filter((w) => w.liveness === Liveness.HEALTHY).length >= 20 ? true : undefined;
      },
      { timeoutMs: 30_000, what: "20 healthy workers" },
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all([gateway.stop(), ...workers.map((w) => w.stop())]);
    killAllStarted();
  });

  /** Heartbeats that went late, fleet-wide, from the gateway's own counter. */
  const missed = async () => {
    const text = await (await fetch(`http://${http}/metrics`)).text();
    return Number(/stallwatch_heartbeats_total\{result="missed"\} (\d+)/.exec(text)?.[1] ?? 0);
  };

  async function sendAll(cases: Record<string, string>, id: string) {
    const texts = Object.values(cases);
    let n = 0;
    const harness = startTestHarness(grpc, id, () => texts[n++ % texts.length]);
    try {
      await waitForLiveness(client, id, Liveness.HEALTHY);
      // The live view asks once a second: every payload is parsed at least twice.
      const abort = new AbortController();
      const watching = (async () => {
        try {
          const dumps = client.watchThreadDumps(
            { workerId: id, intervalMs: 1000 },
            { signal: abort.signal },
          );
          let seen = 0;
          for await (const dump of dumps) if (dump.dump) seen += 1;
          return seen;
        } catch {
          // aborted below
        }
      })();
      await pollUntil(() => (n >= texts.length * 2 + 1 ? true : undefined), {
        timeoutMs: 60_000,
        what: "every hostile payload answered twice",
      });
      abort.abort();
      await watching;
      const detail = (await client.getWorker({ workerId: id })).detail;
      expect(detail?.beamStatus?.raw.length).toBeGreaterThan(0);
      expect(detail?.latestDump?.threads.filter((t) => t.notMoving)).toEqual([]);
    } finally {
      harness.close();
    }
  }

  it("parses worst-case texts while every worker's heartbeats stay on time", async () => {
    const before = await missed();
    await sendAll(PAYLOADS, "hostile-1");
    expect(await missed()).toBe(before);
    const { workers: ws } = await client.listWorkers({});
    expect(
      ws
        .filter(
          (w) =>
            w.id !== "hostile-1" &&
            w.liveness !== Liveness.HEALTHY &&
            w.liveness !== Liveness.EXITED,
        )
        .map((w) => w.id),
    ).toEqual([]);
    const metrics = await (await fetch(`http://${http}/metrics`)).text();
    expect(metrics).toMatch(/stallwatch_beam_status_cut_total\{what="lines"\} [1-9]/);
  }, 120_000);

  it("parses 1 MiB of `a` while heartbeats stay on time", async () => {
    const before = await missed();
    await sendAll({ a: "a".repeat(BIG) }, "hostile-2");
    expect(await missed()).toBe(before);
  }, 120_000);

  it("lets a reconnect take over an id whose stream stopped answering pings, and closes the old stream", async () => {
    const beam = await startTestWorker({
      id: "beam-frozen",
      flags: { "beam-status": grpc, "beam-format": "java" },
    });
    try {
      await waitForLiveness(client, "beam-frozen", Liveness.HEALTHY, 20_000);
      // A live stream's id is refused to an impostor.
      const impostor = startTestHarness(grpc, "beam-frozen", () => "impostor");
      expect((await impostor.ended).message).toMatch(/bound to a live Beam status stream/);
      // Frozen: its connection stays open but nothing answers PINGs.
      beam.child.kill("SIGSTOP");
      await waitForLiveness(client, "beam-frozen", Liveness.UNRESPONSIVE, 20_000);
      const successor = startTestHarness(
        grpc,
        "beam-frozen",
        () => "========== THREAD DUMP ==========\n",
      );
      try {
        await waitForLiveness(client, "beam-frozen", Liveness.HEALTHY, 20_000);
        await gateway.waitForLog(
          (l) => l.msg === "beam stream ended by the gateway" && l.worker === "beam-frozen",
        );
        const { events } = await client.listEvents({ workerId: "beam-frozen" });
        expect(events.some((e) => e.summary.includes("took over"))).toBe(true);
      } finally {
        successor.close();
      }
    } finally {
      beam.child.kill("SIGCONT");
      await beam.stop();
    }
  }, 90_000);
});
