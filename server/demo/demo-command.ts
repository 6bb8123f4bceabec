import { randomBytes } from "node:crypto";
import type { Command } from "../cli/command.js";
import { hostPortFlag, numberFlag, stringFlag } from "../cli/flags.js";
import { UsageError } from "../cli/usage-error.js";
import { formatHostPort } from "../net/host-port.js";
import { startChild, stopChild, type DemoChild } from "./child-process.js";

export const demoCommand: Command = {
  name: "demo",
  summary: "run a demo fleet: the gateway and reference workers",
  help: `Usage: stallwatch demo [--workers N] [--http HOST:PORT] [--grpc HOST:PORT] [--operator-token TOKEN]

Starts reference workers and a gateway watching them, restarts a worker that
dies, and prints the dashboard URL. Ctrl-C stops every process it started.

Flags:
  --workers N              how many workers (default 6)
  --http HOST:PORT         dashboard (default 127.0.0.1:8080)
  --grpc HOST:PORT         worker-facing gRPC (default 127.0.0.1:8081)
  --operator-token TOKEN   operator token (default: a random one, printed)
  --db PATH                gateway database (default ./.stallwatch/demo.db)
  -h, --help               show this help`,
  options: {
    workers: { type: "string" },
    http: { type: "string" },
    grpc: { type: "string" },
    "operator-token": { type: "string" },
    db: { type: "string" },
  },
  async run(flags, log) {
    const count = numberFlag(flags, "workers", 6, 1);
    if (count > 64) throw new UsageError("--workers: at most 64 in the demo");
    const http = formatHostPort(
      hostPortFlag(stringFlag(flags, "http", "127.0.0.1:8080"), "http", { allowZero: true }),
    );
    const grpc = formatHostPort(
      hostPortFlag(stringFlag(flags, "grpc", "127.0.0.1:8081"), "grpc", { allowZero: true }),
    );
    const token = stringFlag(flags, "operator-token") ?? randomBytes(12).toString("base64url");
    const db = stringFlag(flags, "db", "./.stallwatch/demo.db");

    const children = new Set<DemoChild>();
    let stopping = false;
    const stopAll = async () => {
      stopping = true;
      await Promise.all([...children].map((c) => stopChild(c)));
    };

    try {
      const workers = await Promise.all(
        Array.from({ length: count }, (_, i) => startWorker(`demo-${i + 1}`, "127.0.0.1:0")),
      );
      const gateway = startChild(
        "gateway",
        [
          "gateway",
          "--http",
          http,
          "--grpc",
          grpc,
          "--operator-token",
          token,
          "--db",
          db,
          // Tighter than production so the demo's incident shows within a minute.
          "--stall-no-progress-ms",
          "20000",
          "--stall-processing-ms",
          "30000",
          ...workers.flatMap((w) => ["--worker", w.address]),
        ],
        log,
      );
      children.add(gateway);
      const up = await gateway.listening;
      const url = String(up.url);
      log.info(
        { url, operatorUrl: `${url}#operator-token=${token}`, workers: count },
        "demo ready",
      );
      void gateway.exited.then((code) => {
        if (!stopping) log.error({ code }, "the gateway exited; stopping the demo");
        if (!stopping) void stopAll().then(() => process.exit(1));
      });
    } catch (err) {
      await stopAll();
      throw err;
    }

    /** Starts a worker and restarts it on the same address if it dies. */
    async function startWorker(id: string, listen: string): Promise<{ address: string }> {
      const child = startChild(id, ["worker", "--listen", listen, "--id", id], log);
      children.add(child);
      const address = String((await child.listening).address);
      void child.exited.then((code) => {
        children.delete(child);
        if (stopping) return;
        log.warn({ worker: id, code }, "worker exited; restarting it in 3 s");
        setTimeout(() => {
          if (!stopping)
            startWorker(id, address).catch((err: unknown) =>
              log.error({ err, worker: id }, "restart failed"),
            );
        }, 3000).unref();
      });
      return { address };
    }

    return { stop: stopAll };
  },
};
