import http from "node:http";
import http2 from "node:http2";
import { fileURLToPath } from "node:url";
import type { Command } from "../cli/command.js";
import { hostPortFlag, numberFlag, stringFlag, stringListFlag } from "../cli/flags.js";
import { closeServer, listen } from "../net/listen.js";
import { formatHostPort } from "../net/host-port.js";
import { defaultProberOptions } from "../heartbeats/heartbeat-prober.js";
import { createGateway } from "./gateway.js";
import { UsageError } from "../cli/usage-error.js";
import { SessionState } from "../../gen/stallwatch/v1/agent_pb.js";
import { defaultStallThresholds } from "../stalls/stall-rules.js";
import { DEFAULT_REDACTION_PATTERNS } from "../thread-dumps/redact.js";

const DEFAULT_WEB_ROOT = fileURLToPath(new URL("../../web/", import.meta.url));

export const gatewayCommand: Command = {
  name: "gateway",
  summary: "watch workers and serve the dashboard",
  help: `Usage: stallwatch gateway [--http HOST:PORT] [--grpc HOST:PORT] [--worker HOST:PORT]...

Probes every --worker with UdfWorker.Manage(Heartbeat) once per interval,
judges liveness (healthy / late / unresponsive / gone) and serves the
dashboard and its Connect API.

Flags:
  --http HOST:PORT          dashboard and Connect API, HTTP/1.1 (default 127.0.0.1:8080)
  --grpc HOST:PORT          worker-facing gRPC over h2c (default 127.0.0.1:8081)
  --worker HOST:PORT        a Spark UDF worker's Manage endpoint; repeat for more
  --interval-ms N           time between heartbeats to one worker (default ${defaultProberOptions.intervalMs})
  --deadline-ms N           per-heartbeat deadline (default ${defaultProberOptions.deadlineMs})
  --unresponsive-after N    misses in a row before "unresponsive" (default ${defaultProberOptions.unresponsiveAfter})
  --stall-no-progress-ms N  a session with no progress this long is stalled (default 300000, Beam's lull)
  --stall-processing-ms N   a session processing one batch this long is stalled (default 300000)
  --not-moving-ms N         a thread whose stack is unchanged this long is "not moving" (default 10000)
  --redact REGEX            also redact matches of REGEX in thread dumps; repeatable
  --web-root DIR            built dashboard to serve (default: dist/web)
  -h, --help                show this help`,
  options: {
    http: { type: "string" },
    grpc: { type: "string" },
    worker: { type: "string", multiple: true },
    "interval-ms": { type: "string" },
    "deadline-ms": { type: "string" },
    "unresponsive-after": { type: "string" },
    "web-root": { type: "string" },
    "stall-no-progress-ms": { type: "string" },
    "stall-processing-ms": { type: "string" },
    "not-moving-ms": { type: "string" },
    redact: { type: "string", multiple: true },
  },
  async run(flags, log) {
    const httpAt = hostPortFlag(stringFlag(flags, "http", "127.0.0.1:8080"), "http", {
      allowZero: true,
    });
    const grpcAt = hostPortFlag(stringFlag(flags, "grpc", "127.0.0.1:8081"), "grpc", {
      allowZero: true,
    });
    const targets = stringListFlag(flags, "worker").map((w) => hostPortFlag(w, "worker"));
    const intervalMs = numberFlag(flags, "interval-ms", defaultProberOptions.intervalMs, 10);
    const deadlineMs = numberFlag(flags, "deadline-ms", defaultProberOptions.deadlineMs, 10);
    const unresponsiveAfter = numberFlag(
      flags,
      "unresponsive-after",
      defaultProberOptions.unresponsiveAfter,
      1,
    );
    const webRoot = stringFlag(flags, "web-root", DEFAULT_WEB_ROOT);
    const noProgressMs = numberFlag(
      flags,
      "stall-no-progress-ms",
      defaultStallThresholds.noProgressMs,
      100,
    );
    const processingMs = numberFlag(
      flags,
      "stall-processing-ms",
      defaultStallThresholds.byState[SessionState.PROCESSING] ?? 300_000,
      100,
    );
    const notMovingMs = numberFlag(flags, "not-moving-ms", 10_000, 0);
    const extraRedactions = stringListFlag(flags, "redact");
    for (const pattern of extraRedactions) {
      try {
        new RegExp(pattern, "gi");
      } catch (err) {
        throw new UsageError(`--redact: ${(err as Error).message}`);
      }
    }

    const gateway = createGateway({
      targets,
      prober: { ...defaultProberOptions, intervalMs, deadlineMs, unresponsiveAfter, notMovingMs },
      webRoot,
      log,
      thresholds: {
        byState: { ...defaultStallThresholds.byState, [SessionState.PROCESSING]: processingMs },
        noProgressMs,
      },
      redactionPatterns: [...DEFAULT_REDACTION_PATTERNS, ...extraRedactions],
    });
    const httpServer = http.createServer(gateway.httpHandler);
    const grpcServer = http2.createServer(gateway.grpcHandler);
    try {
      const httpBound = await listen(httpServer, httpAt, "http");
      const grpcBound = await listen(grpcServer, grpcAt, "grpc");
      log.info(
        {
          http: formatHostPort(httpBound),
          grpc: formatHostPort(grpcBound),
          url: `http://${formatHostPort(httpBound)}/`,
          workers: targets.length,
        },
        "listening",
      );
    } catch (err) {
      gateway.close();
      httpServer.close();
      grpcServer.close();
      throw err;
    }
    return {
      async stop() {
        gateway.close();
        await Promise.all([closeServer(httpServer, 2000), closeServer(grpcServer, 2000)]);
      },
    };
  },
};
