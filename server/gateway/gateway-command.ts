import http from "node:http";
import http2 from "node:http2";
import { fileURLToPath } from "node:url";
import { SessionState } from "../../gen/stallwatch/v1/agent_pb.js";
import type { Command } from "../cli/command.js";
import { formatHostPort } from "../net/host-port.js";
import { closeServer, listen } from "../net/listen.js";
import { createWorkerH2Server } from "../net/worker-h2-server.js";
import { defaultProberOptions } from "../heartbeats/heartbeat-prober.js";
import { defaultStallThresholds } from "../stalls/stall-rules.js";
import { openStore } from "../store/store.js";
import { DEFAULT_REDACTION_PATTERNS } from "../thread-dumps/redact.js";
import { createGateway } from "./gateway.js";
import { gatewayFlagOptions, loadGatewayConfig } from "./gateway-config.js";

const DEFAULT_WEB_ROOT = fileURLToPath(new URL("../../web/", import.meta.url));

export const gatewayCommand: Command = {
  name: "gateway",
  summary: "watch workers and serve the dashboard",
  help: `Usage: stallwatch gateway [flags]

Probes every --worker with UdfWorker.Manage(Heartbeat) once per interval,
hosts the Beam BeamFnWorkerStatus and Stallwatch agent endpoints on --grpc,
judges liveness and stalls, and serves the dashboard, its Connect API,
/metrics, /healthz and /readyz on --http.

Every flag can also come from an environment variable (STALLWATCH_<FLAG>, e.g.
STALLWATCH_OPERATOR_TOKEN; lists comma-separated) or a JSON file (--config,
keys in camelCase). Flags win over env, env over the file.

Flags:
  --http HOST:PORT              dashboard and API, HTTP/1.1 (default 127.0.0.1:8080)
  --grpc HOST:PORT              worker-facing gRPC over h2c (default 127.0.0.1:8081)
  --worker HOST:PORT            a Spark UDF worker's Manage endpoint; repeatable
  --config FILE                 JSON configuration file
  --interval-ms N               heartbeat interval (default ${defaultProberOptions.intervalMs})
  --deadline-ms N               per-heartbeat deadline (default ${defaultProberOptions.deadlineMs})
  --unresponsive-after N        misses in a row before "unresponsive" (default ${defaultProberOptions.unresponsiveAfter})
  --retention-ms N              round-trip and metric history kept (default 900000)
  --stall-no-progress-ms N      no progress this long = stalled (default 300000, Beam's lull)
  --stall-processing-ms N       one batch processing this long = stalled (default 300000)
  --not-moving-ms N             unchanged stack this long = "not moving" (default 10000)
  --gone-retention-ms N         workers that left stay visible as gone this long (default 3600000)
  --redact REGEX                also redact matches in worker text; repeatable
                                (linear-time patterns only: nested quantifiers refused)
  --agent-token TOKEN           fleet agent token (>= 16 chars; also STALLWATCH_AGENT_TOKEN);
                                without one, agents are accepted from loopback only
  --agent-token-file FILE       read the agent token from FILE
  --trust-announced-address     accept a Manage address on another host than the agent
  --max-agents N                agent streams at once (default 10000)
  --db PATH                     SQLite database (default ./.stallwatch/stallwatch.db)
  --snapshot-retention-days N   default 30
  --event-retention-days N      default 7
  --audit-retention-days N      default 90
  --operator-token TOKEN        bearer token that grants the operator role
  --identity-header NAME        trusted auth proxy's user header (operator identity)
  --allowed-origin URL          another origin allowed to call the API; repeatable
  --web-root DIR                built dashboard to serve (default: dist/web)
  -h, --help                    show this help

Bound beyond loopback without --operator-token or --identity-header, the
gateway is read-only (actions disabled) and says so in its log.`,
  options: gatewayFlagOptions,
  async run(flags, log) {
    const config = loadGatewayConfig(flags);
    if (config.readOnly) {
      log.warn(
        { http: formatHostPort(config.http) },
        "listening beyond loopback without operator auth: read-only, actions disabled",
      );
    }
    if (!config.agentToken)
      log.warn(
        { grpc: formatHostPort(config.grpc) },
        "no --agent-token: agents are accepted from loopback peers only",
      );
    else if (flags["agent-token"] !== undefined)
      log.warn("--agent-token shows in ps; prefer STALLWATCH_AGENT_TOKEN or --agent-token-file");
    let fatalExit: ((code: number) => void) | undefined;
    const done = new Promise<number>((resolve) => (fatalExit = resolve));
    const store = openStore({
      path: config.dbPath,
      log,
      retention: {
        snapshotsMs: config.snapshotRetentionMs,
        eventsMs: config.eventRetentionMs,
        auditMs: config.auditRetentionMs,
      },
      // A gateway that cannot record audit must not go on as if it could.
      onFatal: () => fatalExit?.(1),
    });
    const gateway = createGateway({
      targets: config.workers,
      prober: {
        ...defaultProberOptions,
        intervalMs: config.intervalMs,
        deadlineMs: config.deadlineMs,
        unresponsiveAfter: config.unresponsiveAfter,
        retentionMs: config.retentionMs,
        notMovingMs: config.notMovingMs,
      },
      store,
      auth: {
        readOnly: config.readOnly,
        ...(config.operatorToken ? { operatorToken: config.operatorToken } : {}),
        ...(config.identityHeader ? { identityHeader: config.identityHeader } : {}),
      },
      allowedOrigins: config.allowedOrigins,
      goneRetentionMs: config.goneRetentionMs,
      snapshotRetentionMs: config.snapshotRetentionMs,
      webRoot: config.webRoot ?? DEFAULT_WEB_ROOT,
      thresholds: {
        byState: {
          ...defaultStallThresholds.byState,
          [SessionState.PROCESSING]: config.stallProcessingMs,
        },
        noProgressMs: config.stallNoProgressMs,
      },
      redactionPatterns: [...DEFAULT_REDACTION_PATTERNS, ...config.redact],
      agentAdmission: {
        ...(config.agentToken ? { agentToken: config.agentToken } : {}),
        trustAnnouncedAddress: config.trustAnnouncedAddress,
        maxAgents: config.maxAgents,
      },
      log,
    });
    const httpServer = http.createServer(
      { requestTimeout: 30_000, headersTimeout: 10_000 },
      gateway.httpHandler,
    );
    const grpcServer = createWorkerH2Server(gateway.grpcHandler);
    // Worker streams (agents, Beam harnesses) live as long as their process;
    // on shutdown their sessions are closed, not waited for.
    const workerSessions = new Set<http2.ServerHttp2Session>();
    grpcServer.on("session", (session: http2.ServerHttp2Session) => {
      workerSessions.add(session);
      session.once("close", () => workerSessions.delete(session));
    });
    const shutdown = async () => {
      gateway.close();
      for (const session of workerSessions) session.close();
      setTimeout(() => {
        for (const session of workerSessions) session.destroy();
      }, 500).unref();
      await Promise.all([closeServer(httpServer, 2000), closeServer(grpcServer, 2000)]);
      store.close();
    };
    try {
      const httpBound = await listen(httpServer, config.http, "http");
      const grpcBound = await listen(grpcServer, config.grpc, "grpc");
      log.info(
        {
          http: formatHostPort(httpBound),
          grpc: formatHostPort(grpcBound),
          url: `http://${formatHostPort(httpBound)}/`,
          workers: config.workers.length,
          readOnly: config.readOnly,
          db: config.dbPath,
        },
        "listening",
      );
    } catch (err) {
      await shutdown();
      throw err;
    }
    return { stop: shutdown, done };
  },
};
