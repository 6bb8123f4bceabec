// The many-connections agent flood of issue 19 item 6, as a phase of
// edge-hostile.bench.ts: N connections from 127.0.0.2 (another host, as far
// as the gateway can tell), 4 agent streams each, every stream announcing and
// then answering nothing. Measures what it costs the gateway: streams
// admitted, RSS peak and after, and the worst /healthz round trip while the
// flood misbehaves. Printed, never asserted.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const FLOOD_CLIENT = fileURLToPath(
  new URL("../server/gateway/agent-endpoint/testing/flood-client.js", import.meta.url),
);

export interface FloodFigures {
  connections: number;
  streams: number;
  /** Streams that got their first status request (admitted), and how the others ended. */
  admitted: number;
  /** CPU seconds the gateway spent from the flood's start until it left. */
  cpuSeconds: number;
  /** The gateway's longest event-loop delay over the same time (its own /metrics). */
  loopDelayMaxMs: number;
  refused: Record<string, number>;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  /** RSS once the flood has been gone for `settleMs`. */
  rssAfterMiB: number;
  healthzWorstMs: number;
  healthzP99Ms: number;
  healthzSamples: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of `pid`, in seconds (USER_HZ is 100 on Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The gateway's longest event-loop delay since the previous scrape (which this one resets). */
async function loopDelayMaxMs(http: string): Promise<number> {
  const text = await (await fetch(`http://${http}/metrics`)).text();
  return Number(/^nodejs_eventloop_delay_max_seconds (\S+)$/m.exec(text)?.[1] ?? NaN) * 1000;
}

function rssMiB(pid: number): number {
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kib ?? 0) / 1024;
}

/**
 * Runs one flood against the gateway (`pid`, its --http and --grpc) and
 * holds it `holdMs` after it settled, polling /healthz one request at a time
 * and sampling RSS every 100 ms; then measures RSS `settleMs` after it left.
 */
export async function floodPhase(
  gateway: { pid: number; http: string; grpc: string },
  connections: number,
  { holdMs = 10_000, settleMs = 15_000, streamsPerConnection = 4 } = {},
): Promise<FloodFigures> {
  const rssBeforeMiB = rssMiB(gateway.pid);
  const cpuBefore = cpuSeconds(gateway.pid);
  await loopDelayMaxMs(gateway.http); // starts the window
  let rssPeakMiB = rssBeforeMiB;
  const sampler = setInterval(() => {
    rssPeakMiB = Math.max(rssPeakMiB, rssMiB(gateway.pid));
  }, 100);
  const healthz: number[] = [];
  const poll = { on: true };
  const poller = (async () => {
    while (poll.on) {
      const t = performance.now();
      try {
        await (
          await fetch(`http://${gateway.http}/healthz`, { signal: AbortSignal.timeout(30_000) })
        ).text();
      } catch {
        // counted as its time to fail
      }
      healthz.push(performance.now() - t);
      await sleep(50);
    }
  })();
  // Niced: the attacker is another machine; on these 2 cores it would
  // otherwise measure the machine, not the gateway (as in the flood test).
  const flood = spawn(
    "nice",
    [
      ...["-n", "15", process.execPath, FLOOD_CLIENT, gateway.grpc],
      ...[String(connections), String(streamsPerConnection), "127.0.0.2"],
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  try {
    const summary = await new Promise<{ admitted: number; refused: Record<string, number> }>(
      (resolve, reject) => {
        createInterface({ input: flood.stdout }).once("line", (line) =>
          resolve(JSON.parse(line) as { admitted: number; refused: Record<string, number> }),
        );
        flood.once("exit", (code) => reject(new Error(`flood client exited ${code}`)));
      },
    );
    await sleep(holdMs);
    flood.stdin.end();
    await new Promise((r) => flood.once("exit", r));
    const cpu = cpuSeconds(gateway.pid) - cpuBefore;
    const loopMax = await loopDelayMaxMs(gateway.http);
    poll.on = false;
    await poller;
    clearInterval(sampler);
    await sleep(settleMs);
    const sorted = [...healthz].sort((a, b) => a - b);
    return {
      connections,
      streams: connections * streamsPerConnection,
      admitted: summary.admitted,
      cpuSeconds: cpu,
      loopDelayMaxMs: loopMax,
      refused: summary.refused,
      rssBeforeMiB,
      rssPeakMiB,
      rssAfterMiB: rssMiB(gateway.pid),
      healthzWorstMs: sorted[sorted.length - 1] ?? 0,
      healthzP99Ms: sorted[Math.max(0, Math.ceil(sorted.length * 0.99) - 1)] ?? 0,
      healthzSamples: sorted.length,
    };
  } finally {
    poll.on = false;
    clearInterval(sampler);
    flood.kill("SIGKILL");
  }
}
