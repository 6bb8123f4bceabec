import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { tableFromArrays, tableToIPC } from "apache-arrow";
import { UdfWorker } from "../../gen/org/apache/spark/udf/worker/udf_service_pb.js";
import type { Command } from "../shared/cli/command.js";
import { hostPortFlag, numberFlag, stringListFlag } from "../shared/cli/flags.js";
import { UsageError } from "../shared/cli/usage-error.js";
import { formatHostPort } from "../shared/net/host-port.js";
import { runEngineSession, type EngineOutcome } from "./engine-session.js";

const DEFAULT_MIX = [
  '{"fn":"echo","weight":5}',
  '{"fn":"double","weight":3}',
  '{"fn":"sink","weight":1}',
  '{"fn":"generate","weight":1,"batches":3,"rows":500}',
];

interface MixEntry {
  udf: Record<string, unknown>;
  weight: number;
}

function parseMix(texts: string[]): MixEntry[] {
  return texts.map((text) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new UsageError(`--udf: "${text}" is not JSON like {"fn":"echo","weight":2}`);
    }
    if (
      typeof parsed !== "object" ||
      parsed === null ||
      typeof (parsed as { fn?: unknown }).fn !== "string"
    ) {
      throw new UsageError(`--udf: "${text}" needs an "fn"`);
    }
    const { weight, ...udf } = parsed as Record<string, unknown>;
    const w = weight === undefined ? 1 : Number(weight);
    if (!Number.isFinite(w) || w <= 0)
      throw new UsageError(`--udf: weight must be a positive number in "${text}"`);
    return { udf, weight: w };
  });
}

function pick(mix: MixEntry[]): MixEntry {
  const total = mix.reduce((n, m) => n + m.weight, 0);
  let r = Math.random() * total;
  for (const m of mix) {
    r -= m.weight;
    if (r <= 0) return m;
  }
  const last = mix.at(-1);
  if (!last) throw new Error("empty mix");
  return last;
}

export const engineCommand: Command = {
  name: "engine",
  summary: "drive Execute sessions against workers, the way an engine does",
  help: `Usage: stallwatch engine --worker HOST:PORT... [flags]

Runs UDF sessions against the workers the way Spark's engine does (waits for
InitResponse, half-closes only after the terminator, sends Cancel after an
ErrorResponse) with a weighted mix of demo UDFs and task contexts (stage,
partition, attempt), and reports what it saw.

Flags:
  --worker HOST:PORT    a worker's UdfWorker endpoint; repeatable (round robin)
  --udf JSON            a mix entry such as {"fn":"slow","msPerBatch":300,"weight":2};
                        repeatable (default: echo, double, sink, generate)
  --rate N              sessions started per second (default 2)
  --concurrency N       sessions in flight at most (default 8)
  --sessions N          stop after N sessions (default: run until stopped)
  --batches N           data batches per session (default 5)
  --rows N              rows per batch (default 1000)
  --answer-timeout-ms N longest wait for one answer before cancelling (default 600000)
  --report-every-ms N   how often to log a summary (default 5000)
  -h, --help            show this help`,
  options: {
    worker: { type: "string", multiple: true },
    udf: { type: "string", multiple: true },
    rate: { type: "string" },
    concurrency: { type: "string" },
    sessions: { type: "string" },
    batches: { type: "string" },
    rows: { type: "string" },
    "answer-timeout-ms": { type: "string" },
    "report-every-ms": { type: "string" },
  },
  run(flags, log) {
    const workers = stringListFlag(flags, "worker").map((w) => hostPortFlag(w, "worker"));
    if (workers.length === 0) throw new UsageError("at least one --worker HOST:PORT is required");
    const mixTexts = stringListFlag(flags, "udf");
    const mix = parseMix(mixTexts.length > 0 ? mixTexts : DEFAULT_MIX);
    const rate = numberFlag(flags, "rate", 2, 0.01);
    const concurrency = numberFlag(flags, "concurrency", 8, 1);
    const limit = numberFlag(flags, "sessions", Infinity, 1);
    const batches = numberFlag(flags, "batches", 5, 0);
    const rows = numberFlag(flags, "rows", 1000, 1);
    const answerTimeoutMs = numberFlag(flags, "answer-timeout-ms", 600_000, 100);
    const reportEveryMs = numberFlag(flags, "report-every-ms", 5000, 100);

    const clients = workers.map((w) => ({
      address: formatHostPort(w),
      client: createClient(
        UdfWorker,
        createGrpcTransport({ baseUrl: `http://${formatHostPort(w)}` }),
      ),
    }));
    const batch = tableToIPC(
      tableFromArrays({ x: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i)) }),
      "stream",
    );
    const counts: Record<EngineOutcome | "started", number> = {
      started: 0,
      finished: 0,
      cancelled: 0,
      failed: 0,
      broken: 0,
    };
    let inFlight = 0;
    let partition = 0;
    let stopped = false;
    let resolveDone: (code: number) => void = () => undefined;
    const done = new Promise<number>((resolve) => (resolveDone = resolve));

    const startOne = () => {
      if (stopped || inFlight >= concurrency || counts.started >= limit) return;
      const target = clients[counts.started % clients.length];
      if (!target) return;
      const entry = pick(mix);
      counts.started += 1;
      inFlight += 1;
      const taskContext = {
        stage: String(1 + (partition % 7)),
        partition: String(partition++),
        attempt: "0",
      };
      void runEngineSession(target.client, {
        udf: entry.udf,
        batches,
        batch,
        taskContext,
        answerTimeoutMs,
      }).then((result) => {
        inFlight -= 1;
        counts[result.outcome] += 1;
        if (result.outcome !== "finished") {
          log.info(
            {
              worker: target.address,
              fn: entry.udf.fn,
              outcome: result.outcome,
              detail: result.detail,
            },
            "session ended",
          );
        }
        if (counts.started >= limit && inFlight === 0) {
          log.info({ ...counts }, "all sessions done");
          resolveDone(0);
        }
      });
    };
    const starter = setInterval(startOne, 1000 / rate);
    startOne();
    const reporter = setInterval(
      () => log.info({ ...counts, inFlight }, "engine report"),
      reportEveryMs,
    );
    log.info(
      { workers: clients.map((c) => c.address), rate, concurrency, mix: mix.map((m) => m.udf.fn) },
      "listening",
    );

    const stop = async () => {
      stopped = true;
      clearInterval(starter);
      clearInterval(reporter);
      log.info({ ...counts, inFlight }, "engine stopped");
      await Promise.resolve();
    };
    return Promise.resolve({
      stop,
      done: done.then(async (code) => {
        await stop();
        return code;
      }),
    });
  },
};
