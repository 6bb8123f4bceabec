import type { IncomingMessage, ServerResponse } from "node:http";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { BeamFnWorkerStatus } from "../../gen/org/apache/beam/model/fn_execution/v1/beam_fn_api_pb.js";
import { AgentService } from "../../gen/stallwatch/v1/agent_pb.js";
import { ControlService } from "../../gen/stallwatch/v1/control_pb.js";
import { FleetService } from "../../gen/stallwatch/v1/fleet_pb.js";
import { SnapshotService } from "../../gen/stallwatch/v1/snapshot_pb.js";
import { ActionRunner } from "../actions/action-runner.js";
import { createControlService } from "../actions/control-service.js";
import type { AdmissionOptions } from "../agents/agent-admission.js";
import { createAgentService, type AgentChannels } from "../agents/agent-service.js";
import type { AuthConfig } from "../auth/caller.js";
import { createBeamStatusService } from "../beam-status/beam-status-service.js";
import { EventLog } from "../events/event-log.js";
import { Fleet } from "../fleet/fleet.js";
import { createFleetService } from "../fleet/fleet-service.js";
import { HeartbeatProber, type ProberOptions } from "../heartbeats/heartbeat-prober.js";
import type { Logger } from "../logging/logger.js";
import { GatewayMetrics } from "../metrics/gateway-metrics.js";
import { formatHostPort, type HostPort } from "../net/host-port.js";
import { sweepGoneWorkers } from "../fleet/gone-sweeper.js";
import { peerContextValues } from "../net/peer-address.js";
import { createSnapshotService } from "../snapshots/snapshot-service.js";
import { defaultStallThresholds, type StallThresholds } from "../stalls/stall-rules.js";
import type { Store } from "../store/store.js";
import { createRedactor } from "../thread-dumps/redact.js";
import { StatusCollector } from "../thread-dumps/status-collector.js";
import { originAllowed } from "./origin-guard.js";
import { createStaticHandler } from "./static-files.js";

/** Largest single message a worker may send; larger ones fail that stream only. */
const MAX_WORKER_MESSAGE_BYTES = 4 << 20;
/** Largest request body the browser API accepts. */
const MAX_BROWSER_REQUEST_BYTES = 256 << 10;
/** Beam status text kept per harness. */
const MAX_STATUS_BYTES = 1 << 20;

export interface GatewayOptions {
  targets: HostPort[];
  prober: Omit<ProberOptions, "log">;
  /** Durable state; the gateway does not close it (its owner does). */
  store: Store;
  auth: AuthConfig;
  /** How long workers that left stay visible as gone (default 1 h). */
  goneRetentionMs?: number;
  /** Origins besides the gateway's own that may call the browser API. */
  allowedOrigins?: string[];
  snapshotRetentionMs?: number;
  /** Directory of the built SPA. */
  webRoot: string;
  thresholds?: StallThresholds;
  /** Regex sources whose matches are redacted from worker text (default: common secrets). */
  redactionPatterns?: string[];
  /** Agent token, loopback rule, agent caps and address trust (see agents/agent-admission.ts). */
  agentAdmission?: Partial<AdmissionOptions>;
  log: Logger;
}

export interface Gateway {
  fleet: Fleet;
  events: EventLog;
  collector: StatusCollector;
  actions: ActionRunner;
  metrics: GatewayMetrics;
  /** Live agent streams by worker id. */
  agents: AgentChannels;
  prober: HeartbeatProber;
  /** Handler for the browser-facing HTTP/1.1 listener. */
  httpHandler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Handler for the worker-facing h2c listener (gRPC). */
  grpcHandler: ReturnType<typeof connectNodeAdapter>;
  /** Stops probing and collecting and flushes events; sockets are the caller's. */
  close(): void;
}

/**
 * Builds the gateway without listening: the entry point owns sockets,
 * signals and the store's lifetime; tests mount the handlers on port 0.
 */
export function createGateway(opts: GatewayOptions): Gateway {
  const { log, store } = opts;
  const fleet = new Fleet();
  const events = new EventLog(5000, (batch) => store.appendEvents(batch));
  const agents: AgentChannels = new Map();
  const redact = createRedactor(opts.redactionPatterns);
  const collector = new StatusCollector(fleet, agents, events, {
    dumpIntervalMs: 10_000,
    watchedIntervalMs: 2_000,
    deadlineMs: 3_000,
    maxDumpsPerSecond: 50,
    thresholds: opts.thresholds ?? defaultStallThresholds,
    redact,
    log,
  });
  const metrics = new GatewayMetrics(fleet, () => collector.stalledSessions().length);
  const onLivenessChange = collector.onLivenessChange.bind(collector);
  const prober = new HeartbeatProber(fleet, {
    ...opts.prober,
    log,
    onLivenessChange,
    onBeat: (result, rttMs) => metrics.beat(result, rttMs),
  });
  for (const target of opts.targets) prober.addTarget(target);
  const actions = new ActionRunner({
    fleet,
    prober,
    agents,
    events,
    store,
    log,
    onEnded: (action) => metrics.actionEnded(action),
  });

  const fleetService = createFleetService({ fleet, events, collector });
  const controlService = createControlService(actions, store, opts.auth);
  const snapshotService = createSnapshotService({
    fleet,
    events,
    collector,
    store,
    auth: opts.auth,
    retentionMs: opts.snapshotRetentionMs ?? 30 * 86_400_000,
    log,
  });
  const browserRoutes = (router: ConnectRouter) => {
    router.service(FleetService, fleetService);
    router.service(ControlService, controlService);
    router.service(SnapshotService, snapshotService);
  };

  const serveStatic = createStaticHandler(opts.webRoot);
  const api = connectNodeAdapter({
    routes: browserRoutes,
    grpc: false,
    readMaxBytes: MAX_BROWSER_REQUEST_BYTES,
    // This adapter is only mounted on the HTTP/1.1 listener.
    fallback: (req, res) => {
      const path = req.url?.split("?")[0];
      if (path === "/healthz" || path === "/readyz") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("ok\n");
        return;
      }
      if (path === "/metrics") {
        void metrics.registry.metrics().then((text) => {
          res.writeHead(200, { "content-type": metrics.registry.contentType });
          res.end(text);
        });
        return;
      }
      serveStatic(req as IncomingMessage, res as ServerResponse);
    },
  });
  const httpHandler = (req: IncomingMessage, res: ServerResponse) => {
    if (!originAllowed(req, opts.allowedOrigins ?? [])) {
      log.warn(
        { origin: req.headers.origin, path: req.url },
        "request from a foreign origin refused",
      );
      res.writeHead(403, { "content-type": "text/plain" });
      res.end("origin not allowed\n");
      return;
    }
    api(req, res);
  };

  const beamStatus = createBeamStatusService(fleet, {
    ...opts.prober,
    maxStatusBytes: MAX_STATUS_BYTES,
    redact,
    log,
    onLivenessChange,
  });
  const agentService = createAgentService(fleet, prober, agents, {
    ...opts.prober,
    statusIntervalMs: 10_000,
    statusDeadlineMs: 2_000,
    announceTimeoutMs: 5_000,
    ...(opts.agentAdmission ? { admission: opts.agentAdmission } : {}),
    redact,
    events,
    log,
    onLivenessChange,
    onRefused: (reason) => metrics.agentRefused(reason),
    onTruncated: (stats) => metrics.workerTextCut(stats),
  });
  // Worker-facing: gRPC only, every message size-capped. The dashboard API is
  // served here too, for gRPC tooling.
  const grpcHandler = connectNodeAdapter({
    routes: (router) => {
      browserRoutes(router);
      router.service(BeamFnWorkerStatus, beamStatus);
      router.service(AgentService, agentService);
    },
    connect: false,
    grpcWeb: false,
    readMaxBytes: MAX_WORKER_MESSAGE_BYTES,
    contextValues: peerContextValues,
  });

  collector.start();
  const staticIds = new Set(opts.targets.map(formatHostPort));
  const sweeper = setInterval(() => {
    const removed = sweepGoneWorkers(fleet, prober, staticIds, opts.goneRetentionMs ?? 3_600_000);
    if (removed.length > 0)
      log.info({ workers: removed }, "workers gone longer than the retention removed");
  }, 10_000);
  sweeper.unref();
  return {
    fleet,
    events,
    collector,
    actions,
    metrics,
    agents,
    prober,
    httpHandler,
    grpcHandler,
    close() {
      clearInterval(sweeper);
      collector.stop();
      prober.stop();
      fleet.flush();
      fleet.close();
      events.close();
      metrics.close();
    },
  };
}
