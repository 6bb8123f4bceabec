import http from "node:http";
import http2 from "node:http2";
import { fileURLToPath } from "node:url";
import type { Command } from "../cli/command.js";
import { hostPortFlag, numberFlag, stringFlag, stringListFlag } from "../cli/flags.js";
import { closeServer, listen } from "../net/listen.js";
import { formatHostPort } from "../net/host-port.js";
import { defaultProberOptions } from "../heartbeats/heartbeat-prober.js";
import { createGateway } from "./gateway.js";

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

    const gateway = createGateway({
      targets,
      prober: { ...defaultProberOptions, intervalMs, deadlineMs, unresponsiveAfter },
      webRoot,
      log,
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
