// Heartbeat p99 of 100 healthy workers with and without a hostile agent
// streaming worst-case text at the message cap (issue 8, "Performance").
// Printed, never asserted. Target: within 2 ms of the quiet run.
// Then an agent flood over 500 connections from one address (issue 19 item
// 6), against the default caps and with them lifted: streams admitted, RSS
// peak and after, /healthz worst. Target: /healthz under 200 ms, RSS back.
// BENCH_ONLY=flood runs only the floods.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { FleetService, WorkerKind } from "../gen/stallwatch/v1/fleet_pb.js";
import {
  rogueConnection,
  startRogueAgent,
} from "../server/gateway/agent-endpoint/testing/rogue-agent.js";
import { killAll, percentile, startProcess, table } from "./harness.js";
import { testGatewayArgs } from "../server/testing/test-gateway.js";
import { startFarms } from "./probe-harness.js";
import { floodPhase, type FloodFigures } from "./edge-flood.js";

const WORKERS = 100;
const PHASE_S = 15;
const MIB = 1 << 20;
/** Streams the hostile client opens: the gateway's per-connection cap. */
const HOSTILE_STREAMS = 4;

/** ~3.5 MiB per report, under the 4 MiB message cap: every pathological shape at once. */
function worstReport() {
  return {
    error: "a".repeat(MIB),
    dump: {
      threads: [
        {
          threadId: "t1",
          name: "=".repeat(MIB),
          frames: ["[".repeat(MIB / 2) + "]".repeat(MIB / 2)],
        },
        {
          threadId: "t2",
          name: "x",
          frames: Array.from({ length: 200 }, () => "password".repeat(64)),
        },
      ],
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const FLOOD_CONNECTIONS = 500;
/** The caps of issue 19 item 6 lifted: what the flood cost before them. */
const UNCAPPED = [
  ...["--max-worker-connections-per-address", "100000"],
  ...["--agent-pending-memory-mib", "100000"],
  ...["--agent-admissions-per-turn", "100000"],
];

/** One flood against a fresh gateway started with `extraArgs`; prints nothing. */
async function floodAgainst(extraArgs: string[]): Promise<FloodFigures> {
  const db = join(mkdtempSync(join(tmpdir(), "sw-edge-flood-")), "db.sqlite");
  const { child, line } = await startProcess([...testGatewayArgs({ db }), ...extraArgs]);
  await sleep(3000); // workers probed, start-up garbage settled
  try {
    return await floodPhase(
      { pid: child.pid ?? 0, http: String(line.http), grpc: String(line.grpc) },
      FLOOD_CONNECTIONS,
    );
  } finally {
    child.kill("SIGTERM");
  }
}

function floodRows(): Promise<Record<string, string | number>[]> {
  const row = (run: string, f: FloodFigures) => ({
    run,
    "streams admitted": `${f.admitted} of ${f.streams}`,
    "RSS before/peak/after MiB": `${f.rssBeforeMiB.toFixed(0)} / ${f.rssPeakMiB.toFixed(0)} / ${f.rssAfterMiB.toFixed(0)}`,
    "/healthz worst ms": f.healthzWorstMs.toFixed(0),
    "/healthz p99 ms": f.healthzP99Ms.toFixed(0),
    "gateway CPU s": f.cpuSeconds.toFixed(1),
    "loop delay max ms": f.loopDelayMaxMs.toFixed(0),
    samples: f.healthzSamples,
  });
  return (async () => {
    const capped = await floodAgainst([]);
    const uncapped = await floodAgainst(UNCAPPED);
    return [
      row(`${FLOOD_CONNECTIONS} connections x 4 agent streams, default caps`, capped),
      row(`the same, caps of issue 19 item 6 lifted`, uncapped),
    ];
  })();
}

try {
  const { addresses } = await startFarms(WORKERS);
  const dir = mkdtempSync(join(tmpdir(), "sw-edge-bench-"));
  process.env.STALLWATCH_WORKERS = addresses.join(",");
  process.env.STALLWATCH_DB = join(dir, "db.sqlite");
  if (process.env.BENCH_ONLY === "flood") {
    table(await floodRows());
    killAll();
    process.exit(0);
  }
  const { child, line } = await startProcess(testGatewayArgs());
  const http = String(line.http);
  const grpc = String(line.grpc);
  const fleet = createClient(
    FleetService,
    createConnectTransport({ baseUrl: `http://${http}`, httpVersion: "1.1" }),
  );
  const roundTripsSince = async (fromMs: number, toMs: number) => {
    const all: number[] = [];
    const { workers } = await fleet.listWorkers({});
    for (const w of workers.filter((x) => x.kind !== WorkerKind.AGENT)) {
      const d = (await fleet.getWorker({ workerId: w.id, windowMinutes: 2 })).detail;
      const times = d?.roundTripsMs?.timesMs ?? [];
      const values = d?.roundTripsMs?.values ?? [];
      times.forEach((t, i) => {
        if (Number(t) >= fromMs && Number(t) < toMs) all.push(values[i] ?? 0);
      });
    }
    return all;
  };

  await sleep(6000); // connections up, timers spread
  const quietFrom = Date.now();
  await sleep(PHASE_S * 1000);
  const quiet = await roundTripsSince(quietFrom, Date.now());

  /**
   * One hostile phase: HOSTILE_STREAMS agents on one connection, watched (so
   * the gateway asks them for dumps every 2 s), answering as `greedy` says:
   * greedy peers send worst-case text at the cap to every request; the others
   * only when asked for threads (within the protocol, the worst it allows).
   */
  const hostilePhase = async (name: string, greedy: boolean) => {
    const conn = rogueConnection(grpc);
    let bytesSent = 0;
    const hostile = Array.from({ length: HOSTILE_STREAMS }, (_, i) =>
      startRogueAgent(
        conn.transport,
        { workerId: `${name}-${i}`, host: "=".repeat(MIB) },
        {
          timeoutMs: (PHASE_S + 30) * 1000,
          answer: (request) => {
            if (!greedy && !request.includeThreads) return {};
            bytesSent += 3.5 * MIB;
            return worstReport();
          },
        },
      ),
    );
    const watchers = hostile.map((_, i) =>
      (async () => {
        try {
          const updates = fleet.watchThreadDumps(
            { workerId: `${name}-${i}`, intervalMs: 1000 },
            { timeoutMs: (PHASE_S + 3) * 1000 },
          );
          for await (const update of updates) if (!update.dump) continue;
        } catch {
          // ends with its deadline
        }
      })(),
    );
    await sleep(1000);
    const from = Date.now();
    await sleep(PHASE_S * 1000);
    const to = Date.now();
    const ends = await Promise.all(
      hostile.map((h) => Promise.race([h.ended, sleep(10).then(() => ({ code: "open" }))])),
    );
    conn.close();
    await Promise.allSettled(watchers);
    const requests = hostile.reduce((n, h) => n + h.requests.length, 0);
    return { samples: await roundTripsSince(from, to), requests, bytesSent, ends };
  };

  const rules = await hostilePhase("within-rules", false);
  const greedy = await hostilePhase("greedy", true);
  const row = (run: string, rtts: number[]) => ({
    run,
    samples: rtts.length,
    "p50 ms": percentile(rtts, 50).toFixed(2),
    "p99 ms": percentile(rtts, 99).toFixed(2),
    "p99 - quiet ms": (percentile(rtts, 99) - percentile(quiet, 99)).toFixed(2),
  });
  table([
    row(`${WORKERS} workers, quiet`, quiet),
    row(
      `+ ${HOSTILE_STREAMS} hostile streams, worst-case dumps at the cap when asked`,
      rules.samples,
    ),
    row(
      `+ ${HOSTILE_STREAMS} greedy streams, worst-case text at the cap to every request`,
      greedy.samples,
    ),
  ]);
  console.log(
    `within the rules: ${rules.requests} requests, ~${(rules.bytesSent / MIB).toFixed(0)} MiB of worst-case text; ` +
      `greedy: ${greedy.requests} requests, ~${(greedy.bytesSent / MIB).toFixed(0)} MiB, streams ended: ${greedy.ends
        .map((e) => String((e as { code: unknown }).code))
        .join(", ")} (target: p99 within 2 ms of quiet)`,
  );
  child.kill("SIGTERM");
  table(await floodRows());
} finally {
  killAll();
}
process.exit(0);
