// Shared pieces of the probe benches: Manage farms, CPU time from /proc,
// the bare client loop and h2load, all measured in CPU time (process.cpuUsage
// or /proc), which other engineers' load on this shared machine disturbs far
// less than wall-clock figures.
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { create, toBinary } from "@bufbuild/protobuf";
import { WorkerRequestSchema } from "../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { ManageClient, type CallResult } from "../server/gateway/heartbeats/manage-client.js";
import { parseHostPort } from "../server/shared/net/host-port.js";
import { percentile } from "./harness.js";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CLK_TCK_MS = 10; // USER_HZ is 100 on Linux

/** CPU time (user + system, every thread) of a process, in ms. */
export function cpuMs(pid: number, tid?: number): number {
  const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
  const stat = readFileSync(path, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * CLK_TCK_MS;
}

/** CPU ms of each thread of `pid`, by thread id and name. */
export function threadCpu(pid: number): Map<number, { name: string; ms: number }> {
  const out = new Map<number, { name: string; ms: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`).map(Number)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
      out.set(tid, { name, ms: cpuMs(pid, tid) });
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** The 1-minute load average: wall-clock figures mean little when it is far above the core count. */
export function loadAverage(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ")[0] ?? "?";
}

export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kib / 1024;
}

const PER_FARM = 4000; // listeners per farm process, well inside its fd limit

/** Starts Manage farms with `count` servers in all; resolves with their addresses. */
export async function startFarms(count: number): Promise<{ addresses: string[]; stop(): void }> {
  const script = fileURLToPath(new URL("./manage-farm.js", import.meta.url));
  const sizes: number[] = [];
  for (let left = count; left > 0; left -= PER_FARM) sizes.push(Math.min(PER_FARM, left));
  const farms = sizes.map((n) =>
    spawn(process.execPath, [script, String(n)], { stdio: ["ignore", "pipe", "inherit"] }),
  );
  const stop = () => {
    for (const f of farms) f.kill("SIGKILL");
  };
  process.on("exit", stop);
  const lists = await Promise.all(
    farms.map(
      (farm) =>
        new Promise<string[]>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error("farm did not start")), 60_000);
          createInterface({ input: farm.stdout }).on("line", (line) => {
            const parsed = JSON.parse(line) as { addresses?: string[] };
            if (parsed.addresses) {
              clearTimeout(timer);
              resolve(parsed.addresses);
            }
          });
        }),
    ),
  );
  return { addresses: lists.flat(), stop };
}

export interface LoopFigures {
  cpuUsPerBeat: number;
  /** Median over targets of each target's nearest-rank p99 over its last 60 samples (as the gateway reports it). */
  medianTargetP99: number;
  /** p99 of every sample in the window. */
  pooledP99: number;
  okRatio: number;
}

/**
 * The bare client loop's engine: the same ManageClient, one heartbeat per
 * target per second, targets spread over 5 ms slots (the prober's are 10 ms,
 * which batch twice the beats per wake-up), each call with its own promise
 * and timer. Every slot that came due is fired,
 * late or not, as the prober does: a loop that skipped slots while the
 * machine was busy would sample fewer of its worst moments and look better
 * than it is. Returns a function that stops it.
 */
export function runBareLoop(
  addresses: string[],
  onResult: (target: number, result: CallResult<Record<string, string>>) => void,
): () => void {
  const clients = addresses.map((a) => new ManageClient(parseHostPort(a)));
  const slots = 200;
  const slotMs = 1000 / slots;
  const start = performance.now();
  let nextSlot = 0;
  const timer = setInterval(() => {
    const due = Math.floor((performance.now() - start) / slotMs);
    for (; nextSlot <= due; nextSlot++) {
      for (let i = nextSlot % slots; i < clients.length; i += slots) {
        void clients[i]?.heartbeat(1000).then((r) => onResult(i, r));
      }
    }
  }, slotMs);
  return () => {
    clearInterval(timer);
    // Calls in flight settle within their 1 s deadline.
    setTimeout(() => {
      for (const c of clients) c.close();
    }, 1100);
  };
}

/** The bare loop's answered round trips with their wall-clock times (ms since the epoch). */
export function bareSampler(addresses: string[]): {
  samples: Array<[number, number]>;
  stop(): void;
} {
  const samples: Array<[number, number]> = [];
  const stop = runBareLoop(addresses, (_, r) => {
    if (r.ok) samples.push([Date.now(), r.rttMs]);
  });
  return { samples, stop };
}

/** The bare loop over `measureS`, after `warmupS`: its CPU per beat and its p99s. */
export async function bareLoop(
  addresses: string[],
  warmupS: number,
  measureS: number,
): Promise<LoopFigures> {
  const samples: number[][] = addresses.map(() => []);
  let ok = 0;
  let total = 0;
  let measuring = false;
  const stop = runBareLoop(addresses, (i, r) => {
    if (!measuring) return;
    total += 1;
    if (!r.ok) return;
    ok += 1;
    samples[i]?.push(r.rttMs);
  });
  await sleep(warmupS * 1000);
  measuring = true;
  const cpu0 = process.cpuUsage();
  await sleep(measureS * 1000);
  const cpu = process.cpuUsage(cpu0);
  measuring = false;
  stop();
  await sleep(1100);
  const beats = Math.max(1, total);
  return {
    cpuUsPerBeat: (cpu.user + cpu.system) / beats,
    medianTargetP99: percentile(
      samples.map((s) => percentile(s.slice(-60), 99)),
      50,
    ),
    pooledP99: percentile(samples.flat(), 99),
    okRatio: ok / beats,
  };
}

/**
 * h2load (nghttp2's C client) sending the same gRPC request: `connections`
 * connections to one farm server at 1 request per second each. Returns its
 * CPU per request over `measureS` after `warmupS`, or undefined without h2load.
 */
export async function h2loadCpuUs(
  address: string,
  connections: number,
  warmupS: number,
  measureS: number,
): Promise<number | undefined> {
  if (spawnSync("h2load", ["--version"]).status !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "sw-h2load-"));
  const body = toBinary(
    WorkerRequestSchema,
    create(WorkerRequestSchema, { manage: { case: "heartbeat", value: {} } }),
  );
  const framed = Buffer.alloc(5 + body.length);
  framed.writeUInt32BE(body.length, 1);
  framed.set(body, 5);
  writeFileSync(join(dir, "heartbeat.bin"), framed);
  const seconds = warmupS + measureS + 5;
  const child = spawn(
    "h2load",
    [
      ...[
        "-c",
        String(connections),
        "-n",
        String(connections * seconds),
        "--rps",
        "1",
        "-m",
        "1",
        "-t",
        "1",
      ],
      ...[
        "-d",
        join(dir, "heartbeat.bin"),
        "-H",
        "content-type: application/grpc",
        "-H",
        "te: trailers",
      ],
      `http://${address}/org.apache.spark.udf.worker.UdfWorker/Manage`,
    ],
    { stdio: "ignore" },
  );
  const pid = child.pid ?? 0;
  try {
    await sleep(warmupS * 1000);
    const c0 = cpuMs(pid);
    await sleep(measureS * 1000);
    const c1 = cpuMs(pid);
    return ((c1 - c0) * 1000) / (connections * measureS);
  } finally {
    child.kill("SIGKILL");
  }
}
