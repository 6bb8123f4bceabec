import http from "node:http";
import http2 from "node:http2";
import { fileURLToPath } from "node:url";
import { SessionState } from "../../gen/stallwatch/v1/agent_pb.js";
import type { Command } from "../shared/cli/command.js";
import { formatHostPort } from "../shared/net/host-port.js";
import { closeServer, listen } from "../shared/net/listen.js";
import { createWorkerH2Server } from "../shared/net/worker-h2-server.js";
import { defaultProberOptions } from "./heartbeats/heartbeat-prober.js";
import { defaultProbeThreads } from "./config/probe-settings.js";
import { defaultStallThresholds } from "./stalls/stall-rules.js";
import { isPostgresUrl, redactUrl } from "./store/connect.js";
import { openStore } from "./store/store.js";
import { refreshStaticTargets } from "./cluster/static-workers.js";
import { prepareCluster, type ClusterRuntime } from "./gateway-cluster.js";
import { DEFAULT_REDACTION_PATTERNS } from "./status/redact.js";
import { createGateway } from "./gateway.js";
import { InFlight } from "./lifecycle/in-flight.js";
import { gatewayFlagOptions, loadGatewayConfig } from "./config/gateway-config.js";

/** Exit code when the database cannot be opened or written (see README). */
export const EXIT_STORE = 3;
/** After a storage fault, time for the request that hit it to get its answer. */
const FATAL_GRACE_MS = 1000;
/** Stopping: how long without a new request before the listener closes. */
const QUIET_MS = 200;

/** Stops listening; idle keep-alive sockets go now, busy ones after a second. */
function closeHttp(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, 1000);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

const DEFAULT_WEB_ROOT = fileURLToPath(new URL("../../web/", import.meta.url));

export const gatewayCommand: Command = {
  name: "gateway",
  summary: "watch workers and serve the dashboard",
  help: `Usage: stallwatch gateway [flags]

Probes every --worker with UdfWorker.Manage(Heartbeat) once per interval,
hosts the Beam BeamFnWorkerStatus and Stallwatch agent endpoints on --grpc
(what workers call, nothing else), judges liveness and stalls, and serves the
dashboard, its Connect API, /metrics, /healthz and /readyz on --http (for
people; never on --grpc).

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
  --probe-threads N             worker threads that probe (default: one per core, here
                                ${defaultProbeThreads()}; 0 probes on the main thread)
  --retention-ms N              round-trip and metric history kept (default 900000)
  --stall-no-progress-ms N      no progress this long = stalled (default 300000, Beam's lull)
  --stall-processing-ms N       one batch processing this long = stalled (default 300000)
  --not-moving-ms N             unchanged stack this long = "not moving" (default 10000)
  --gone-retention-ms N         workers that left stay visible as gone this long (default 3600000)
  --status-interval-ms N        sessions and thread dumps from agents and Beam harnesses
                                this often (default 10000)
  --watched-status-interval-ms N
                                ...and this often while someone watches (default 2000)
  --max-dumps-per-second N      ceiling of the fleet-wide dump budget (default 500)
  --beam-status-deadline-ms N   deadline on one Beam status request (default 3000)
  --max-beam-streams N          Beam status streams at once (default 10000)
  --max-beam-streams-per-connection N
                                ...and per HTTP/2 connection (default 4)
  --redact REGEX                also redact matches in worker text; repeatable
                                (linear-time patterns only: nested quantifiers refused)
  --agent-token TOKEN           fleet agent token (>= 16 chars; also STALLWATCH_AGENT_TOKEN);
                                without one, agents are accepted from loopback only
  --agent-token-file FILE       read the agent token from FILE
  --trust-announced-address     accept a Manage address on another host than the agent
  --max-agents N                agent streams at once (default 10000)
  --db PATH|URL                 SQLite database (default ./.stallwatch/stallwatch.db;
                                created 0600, its directory 0700), or postgres://… URL
  --worker-dns NAME:PORT        one static worker per address NAME resolves to,
                                re-resolved every --dns-interval-ms; repeatable
  --dns-interval-ms N           how often --worker-dns names are resolved again
                                (default 30000)
  --shutdown-grace-ms N         on SIGTERM, time requests in flight get (default 5000)
  --reconcile-wait-ms N         at start, time a worker gets to come back so an action
                                a previous process left running can be settled (default 15000)
  --store-check-ms N            database write probe interval (default 5000)
  --snapshot-retention-days N   default 30
  --event-retention-days N      default 7
  --audit-retention-days N      default 90
  --operator-token TOKEN        bearer token that grants the operator role (>= 16
                                characters; visible in ps: prefer the file or env)
  --operator-token-file FILE    read the operator token from FILE
  --viewer-token TOKEN          bearer token that may list snapshots (>= 16 characters)
  --viewer-token-file FILE      read the viewer token from FILE
  --identity-header NAME        trusted auth proxy's user header (operator identity);
                                honoured only from --trusted-proxy peers
  --trusted-proxy CIDR          peers whose identity header counts (e.g. 10.0.0.5/32,
                                fd00::/8); repeatable; required with --identity-header
  --allowed-host HOST[:PORT]    another name the dashboard is reached by (besides the
                                bound address and localhost); repeatable
  --allowed-origin URL          another origin allowed to call the API; repeatable
  --snapshots-per-minute N      snapshots one caller may create per minute (default 10)
  --snapshots-per-minute-total N  snapshots everyone together may create (default 60)
  --web-root DIR                built dashboard to serve (default: dist/web)

Cluster (several gateways on one PostgreSQL; README "Running a cluster"):
  --cluster-token TOKEN         shared by the gateways (>= 16 characters); joins a cluster
  --cluster-token-file FILE     read the cluster token from FILE
  --gateway-id ID               this gateway's name in the cluster (default host-pid-random)
  --peer HOST:PORT              gateway-to-gateway listener (default 127.0.0.1:8082)
  --advertise-peer URL          how peers reach --peer (default http://<--peer>)
  --lease-ms N                  membership lease (default 10000)
  --cluster-interval-ms N       lease renewal and member refresh (default 2000)
  -h, --help                    show this help

Bound beyond loopback without --operator-token or --identity-header, the
gateway is read-only (actions disabled) and says so in its log.

Exit codes: 0 stopped by SIGINT/SIGTERM, 1 fatal fault, 2 bad flags or
configuration, 3 the database cannot be opened or written.`,
  options: gatewayFlagOptions,
  async run(flags, log) {
    const config = loadGatewayConfig(flags);
    for (const warning of config.warnings) log.warn({ config: true }, warning);
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
    let exitWith: ((code: number) => void) | undefined;
    const done = new Promise<number>((resolve) => (exitWith = resolve));
    // Set below, once there is something to stop.
    let stopFor: (reason: string, graceMs: number) => Promise<void> = async () => {};
    const store = await openStore({
      path: config.dbPath,
      log,
      retention: {
        snapshotsMs: config.snapshotRetentionMs,
        eventsMs: config.eventRetentionMs,
        auditMs: config.auditRetentionMs,
      },
      ...(config.cluster ? { gatewayId: config.cluster.gatewayId } : {}),
      // A gateway that cannot record audit must not go on as if it could; the
      // request that hit the fault still gets its answer first.
      onFatal: (err) => {
        void stopFor(`database failure: ${err.code}`, FATAL_GRACE_MS).then(() =>
          exitWith?.(EXIT_STORE),
        );
      },
    });
    const auth = {
      readOnly: config.readOnly,
      ...(config.operatorToken ? { operatorToken: config.operatorToken } : {}),
      ...(config.identityHeader ? { identityHeader: config.identityHeader } : {}),
      ...(config.viewerToken ? { viewerToken: config.viewerToken } : {}),
    };
    const clusterStart = prepareCluster(config.cluster, store, auth, log);
    const gateway = createGateway({
      // Static workers come from refreshStaticTargets below (flags, config, DNS).
      targets: [],
      ...clusterStart.gatewayOptions,
      prober: {
        ...defaultProberOptions,
        intervalMs: config.intervalMs,
        deadlineMs: config.deadlineMs,
        unresponsiveAfter: config.unresponsiveAfter,
        probeThreads: config.probeThreads,
        onFatal: (err: Error) => {
          log.fatal({ err }, "a probe thread died");
          exitWith?.(1);
        },
        retentionMs: config.retentionMs,
        notMovingMs: config.notMovingMs,
      },
      store,
      auth,
      allowedOrigins: config.allowedOrigins,
      allowedHosts: config.allowedHosts,
      trustedProxies: config.trustedProxies,
      snapshotsPerMinute: config.snapshotsPerMinute,
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
      status: {
        intervalMs: config.statusIntervalMs,
        watchedIntervalMs: config.watchedStatusIntervalMs,
      },
      beam: {
        maxDumpsPerSecond: config.maxDumpsPerSecond,
        statusDeadlineMs: config.beamStatusDeadlineMs,
        maxStreams: config.maxBeamStreams,
        maxStreamsPerConnection: config.maxBeamStreamsPerConnection,
      },
      agentAdmission: {
        ...(config.agentToken ? { agentToken: config.agentToken } : {}),
        trustAnnouncedAddress: config.trustAnnouncedAddress,
        maxAgents: config.maxAgents,
      },
      log,
    });

    const stopStatic = refreshStaticTargets(
      gateway.staticWorkers,
      config.workers,
      config.workerDns,
      config.dnsIntervalMs,
      log,
    );
    let cluster: ClusterRuntime | undefined;

    let stopping = false;
    const inFlight = new InFlight();
    const httpServer = http.createServer(
      { requestTimeout: 30_000, headersTimeout: 10_000 },
      (req, res) => {
        if (stopping) {
          inFlight.seen();
          // Refused with an answer, not a reset: the client may retry elsewhere.
          res.writeHead(503, {
            "content-type": "text/plain",
            connection: "close",
            "retry-after": "1",
          });
          res.end("the gateway is shutting down\n");
          return;
        }
        inFlight.track(res);
        gateway.httpHandler(req, res);
      },
    );
    const grpcServer = createWorkerH2Server(gateway.grpcHandler);
    // Worker streams (agents, Beam harnesses) live as long as their process;
    // on shutdown they are told to go (Unavailable, then GOAWAY), not waited for.
    const workerSessions = new Set<http2.ServerHttp2Session>();
    grpcServer.on("session", (session: http2.ServerHttp2Session) => {
      workerSessions.add(session);
      session.once("close", () => workerSessions.delete(session));
    });
    const storeCheck = setInterval(() => {
      // A fatal failure is reported through onFatal.
      store.probeWrite().catch(() => {});
    }, config.storeCheckMs);
    storeCheck.unref();

    let stopped: Promise<void> | undefined;
    stopFor = (reason, graceMs) => {
      stopped ??= (async () => {
        stopping = true;
        clearInterval(storeCheck);
        gateway.beginShutdown(reason);
        stopStatic();
        // Peers take this gateway's workers over now, not at the lease's end.
        await cluster?.leave();
        const left = await inFlight.settled(graceMs, Math.min(QUIET_MS, graceMs));
        if (left > 0)
          log.warn({ requests: left, graceMs }, "requests still in flight at the end of the grace");
        gateway.close();
        for (const session of workerSessions) session.close();
        setTimeout(() => {
          for (const session of workerSessions) session.destroy();
        }, 500).unref();
        await Promise.all([closeHttp(httpServer), closeServer(grpcServer, 1000)]);
        await store.close();
      })();
      return stopped;
    };
    const shutdown = () => stopFor("SIGTERM", config.shutdownGraceMs);
    try {
      const httpBound = await listen(httpServer, config.http, "http");
      gateway.httpBound(httpBound);
      const grpcBound = await listen(grpcServer, config.grpc, "grpc");
      cluster = await clusterStart.start(gateway, `http://${formatHostPort(httpBound)}`);
      log.info(
        {
          http: formatHostPort(httpBound),
          grpc: formatHostPort(grpcBound),
          url: `http://${formatHostPort(httpBound)}/`,
          workers: config.workers.length,
          probeThreads: gateway.prober.probeThreads,
          ...(cluster ? { gateway: config.cluster?.gatewayId, peer: cluster.peerUrl } : {}),
          readOnly: config.readOnly,
          db: isPostgresUrl(config.dbPath) ? redactUrl(config.dbPath) : config.dbPath,
        },
        "listening",
      );
    } catch (err) {
      await stopFor("start failed", 0);
      throw err;
    }
    // Settles what a previous process left running, once workers are back.
    void gateway.actions.reconcile(config.reconcileWaitMs).catch((err: unknown) => {
      log.error({ err: (err as Error).message }, "reconciling actions failed");
    });
    return { stop: shutdown, done, stopTimeoutMs: config.shutdownGraceMs + 5000 };
  },
};
