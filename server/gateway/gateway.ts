import type { IncomingMessage, ServerResponse } from "node:http";
import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { BeamFnWorkerStatus } from "../../gen/org/apache/beam/model/fn_execution/v1/beam_fn_api_pb.js";
import { AgentService } from "../../gen/stallwatch/v1/agent_pb.js";
import { ControlService } from "../../gen/stallwatch/v1/control_pb.js";
import { FleetService } from "../../gen/stallwatch/v1/fleet_pb.js";
import { SnapshotService, type Snapshot } from "../../gen/stallwatch/v1/snapshot_pb.js";
import { ActionRunner } from "./actions/action-runner.js";
import { createControlService } from "./actions/control-service.js";
import type { AdmissionOptions } from "./agent-endpoint/agent-admission.js";
import { createAgentService, type AgentChannels } from "./agent-endpoint/agent-service.js";
import type { AuthConfig } from "./auth/caller.js";
import { BeamMetrics } from "./beam-endpoint/beam-metrics.js";
import { createBeamStatusService, type BeamChannels } from "./beam-endpoint/beam-status-service.js";
import { withHttp2Session } from "./beam-endpoint/stream-context.js";
import { EventLog } from "./events/event-log.js";
import { Fleet } from "./fleet/fleet.js";
import { createFleetService } from "./fleet-api/fleet-service.js";
import { HeartbeatProber, type ProberOptions } from "./heartbeats/heartbeat-prober.js";
import { systemClock } from "../shared/clock/clock.js";
import type { Logger } from "../shared/logging/logger.js";
import { GatewayMetrics } from "./metrics/gateway-metrics.js";
import type { HostPort } from "../shared/net/host-port.js";
import { expiredGoneWorkers } from "./fleet/gone-workers.js";
import { peerContextValues } from "../shared/net/peer-address.js";
import { SnapshotRateLimit } from "./snapshots/snapshot-rate-limit.js";
import { createSnapshotService } from "./snapshots/snapshot-service.js";
import { defaultStallThresholds, type StallThresholds } from "./stalls/stall-rules.js";
import { StaticAssignment } from "./cluster/static-workers.js";
import { WorkerOwnership, type ClusterOwnership } from "./fleet/ownership.js";
import type { Store } from "./store/store.js";
import { createRedactor } from "./redaction/redact.js";
import { StatusCollector } from "./status/status-collector.js";
import { createHttpGuards } from "./http/http-guards.js";
import { createLifecycleInterceptor } from "./lifecycle/lifecycle-interceptor.js";
import { createSnapshotUnfurl } from "./http/snapshot-unfurl.js";
import { createStaticHandler } from "./http/static-files.js";

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
  /** Host names besides the bound address and localhost (`--allowed-host`). */
  allowedHosts?: string[];
  /** CIDRs whose identity header is honoured (`--trusted-proxy`); default none. */
  trustedProxies?: string[];
  /** `CreateSnapshot` budget (default 10 per caller, 60 overall, per minute). */
  snapshotsPerMinute?: { perCaller: number; total: number };
  snapshotRetentionMs?: number;
  /** Directory of the built SPA. */
  webRoot: string;
  thresholds?: StallThresholds;
  /** Regex sources whose matches are redacted from worker text (default: common secrets). */
  redactionPatterns?: string[];
  /**
   * Status cadence for agents and Beam harnesses (default 10 s; 2 s while
   * watched), and how long a thread stack must stay unchanged to be "not
   * moving" (default 10 s).
   */
  status?: { intervalMs?: number; watchedIntervalMs?: number; notMovingMs?: number };
  /** Beam path caps and cadence (defaults in createGateway). */
  beam?: {
    maxStreams?: number;
    maxStreamsPerConnection?: number;
    /** Dumps per second at most, all workers (the budget scales with the fleet up to this). */
    maxDumpsPerSecond?: number;
    statusDeadlineMs?: number;
  };
  /** Agent token, loopback rule, agent caps and address trust (see agents/agent-admission.ts). */
  agentAdmission?: Partial<AdmissionOptions>;
  /** Cluster-wide ownership of dial-in worker ids (default: this process decides alone). */
  ownership?: ClusterOwnership;
  /**
   * In a cluster: the browser API's services wrapped to serve the whole
   * fleet (server/gateway/cluster); the local ones stay available as `localServices`.
   */
  wrapServices?: (local: BrowserServices, parts: { fleet: Fleet }) => BrowserServices;
  /** In a cluster: completes a snapshot with the other gateways' workers. */
  gatherShards?: (snapshot: Snapshot) => Promise<void>;
  log: Logger;
}

/** The dashboard API's service implementations. */
export interface BrowserServices {
  fleet: ServiceImpl<typeof FleetService>;
  control: ServiceImpl<typeof ControlService>;
  snapshot: ServiceImpl<typeof SnapshotService>;
}

export interface Gateway {
  /** This gateway's own services, unmerged (what it serves to peers of a cluster). */
  localServices: BrowserServices;
  fleet: Fleet;
  events: EventLog;
  collector: StatusCollector;
  actions: ActionRunner;
  metrics: GatewayMetrics;
  /** Live agent streams by worker id. */
  agents: AgentChannels;
  prober: HeartbeatProber;
  /** Which static workers this gateway probes (all, or its share of a cluster's). */
  staticWorkers: StaticAssignment;
  /** Handler for the browser-facing HTTP/1.1 listener: the SPA and the dashboard API. */
  httpHandler: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * Tells the HTTP listener's Host guard the address it got (port 0 made
   * real); until then it answers 503.
   */
  httpBound(address: HostPort): void;
  /** Handler for the worker-facing h2c listener: agents and Beam harnesses only. */
  grpcHandler: ReturnType<typeof connectNodeAdapter>;
  /**
   * Readiness from here on is 503 and every browser stream ends with
   * `Unavailable` (clients reconnect elsewhere); requests in flight go on.
   */
  beginShutdown(reason: string): void;
  /** Whether to route traffic here: not stopping, and the store writes. */
  readiness(): Promise<{ ready: boolean; reason: string }>;
  /** Stops probing and collecting and flushes events; sockets are the caller's. */
  close(): void;
}

/**
 * Builds the gateway without listening: the entry point owns sockets,
 * signals and the store's lifetime; tests mount the handlers on port 0.
 */
export function createGateway(opts: GatewayOptions): Gateway {
  const { log, store } = opts;
  const events = new EventLog(5000, (batch) => {
    // A fatal failure was already reported through the store's onFatal.
    store.appendEvents(batch).catch((err: unknown) => {
      log.error({ err: (err as Error).message, events: batch.length }, "events not recorded");
    });
  });
  const fleet = new Fleet({
    unresponsiveAfter: opts.prober.unresponsiveAfter,
    sampleCapacity: Math.ceil(opts.prober.retentionMs / opts.prober.intervalMs),
    events,
    log,
  });
  const agents: AgentChannels = new Map();
  const redact = createRedactor(opts.redactionPatterns);
  const metrics: GatewayMetrics = new GatewayMetrics(
    fleet,
    (): number => collector.stalledSessions().length,
  );
  const beamMetrics = new BeamMetrics(metrics.registry);
  const beams: BeamChannels = new Map();
  const collector: StatusCollector = new StatusCollector(
    fleet,
    agents,
    events,
    {
      dumpIntervalMs: opts.status?.intervalMs ?? 10_000,
      watchedIntervalMs: opts.status?.watchedIntervalMs ?? 2_000,
      deadlineMs: 3_000,
      minDumpsPerSecond: 50,
      maxDumpsPerSecond: opts.beam?.maxDumpsPerSecond ?? 500,
      thresholds: opts.thresholds ?? defaultStallThresholds,
      ...(opts.status?.notMovingMs !== undefined ? { notMovingMs: opts.status.notMovingMs } : {}),
      redact,
      beamMetrics,
      log,
    },
    beams,
  );
  const prober = new HeartbeatProber(fleet, {
    ...opts.prober,
    log,
    onBeat: (result, rttMs) => metrics.beat(result, rttMs),
  });
  // Static workers go through the assignment: all of them for a lone
  // gateway, a rendezvous share once it joins a cluster.
  const staticWorkers = new StaticAssignment({
    prober,
    selfId: "self",
    members: () => ["self"],
    log,
  });
  staticWorkers.setTargets(opts.targets);
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
  const snapshotsPerMinute = opts.snapshotsPerMinute ?? { perCaller: 10, total: 60 };
  metrics.snapshotRateLimits(snapshotsPerMinute.perCaller, snapshotsPerMinute.total);
  const snapshotService = createSnapshotService({
    fleet,
    events,
    collector,
    store,
    auth: opts.auth,
    retentionMs: opts.snapshotRetentionMs ?? 30 * 86_400_000,
    rateLimit: new SnapshotRateLimit({
      perCallerPerMinute: snapshotsPerMinute.perCaller,
      totalPerMinute: snapshotsPerMinute.total,
    }),
    onCreated: () => metrics.snapshotCreated(),
    onRefused: (scope) => metrics.snapshotRefused(scope),
    ...(opts.gatherShards ? { gatherShards: opts.gatherShards } : {}),
    log,
  });
  const localServices: BrowserServices = {
    fleet: fleetService,
    control: controlService,
    snapshot: snapshotService,
  };
  const served = opts.wrapServices?.(localServices, { fleet }) ?? localServices;
  const browserRoutes = (router: ConnectRouter) => {
    router.service(FleetService, served.fleet);
    router.service(ControlService, served.control);
    router.service(SnapshotService, served.snapshot);
  };

  const stopping = new AbortController();
  let stoppingReason = "";
  const readiness = async () => {
    if (stopping.signal.aborted)
      return { ready: false, reason: `shutting down (${stoppingReason})` };
    if (store.fatal) return { ready: false, reason: `database unusable: ${store.fatal.message}` };
    try {
      await store.probeWrite();
      return { ready: true, reason: "ok" };
    } catch (err) {
      return { ready: false, reason: `database cannot write: ${(err as Error).message}` };
    }
  };
  const lifecycle = createLifecycleInterceptor(stopping.signal);
  const serveStatic = createStaticHandler(opts.webRoot);
  const unfurl = createSnapshotUnfurl({ store, webRoot: opts.webRoot, log });
  const api = connectNodeAdapter({
    routes: browserRoutes,
    grpc: false,
    readMaxBytes: MAX_BROWSER_REQUEST_BYTES,
    // The snapshot rate limit keys anonymous callers by peer address.
    contextValues: peerContextValues,
    interceptors: [lifecycle],
    // This adapter is only mounted on the HTTP/1.1 listener.
    fallback: (req, res) => {
      const path = req.url?.split("?")[0];
      if (path === "/healthz") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("ok\n");
        return;
      }
      if (path === "/readyz") {
        void readiness().then(({ ready, reason }) => {
          res.writeHead(ready ? 200 : 503, { "content-type": "text/plain" });
          res.end(`${reason}\n`);
        });
        return;
      }
      if (path === "/metrics") {
        // A failing collector answers 500 and is logged; it must not become
        // an unhandled rejection, which ends the process.
        void Promise.resolve()
          .then(() => metrics.registry.metrics())
          .then(
            (text) => {
              res.writeHead(200, { "content-type": metrics.registry.contentType });
              res.end(text);
            },
            (err: unknown) => {
              log.error({ err: (err as Error).message }, "metrics collection failed");
              if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
              res.end("metrics collection failed\n");
            },
          );
        return;
      }
      if (!unfurl(req as IncomingMessage, res as ServerResponse))
        serveStatic(req as IncomingMessage, res as ServerResponse);
    },
  });
  const guards = createHttpGuards({
    allowedHosts: opts.allowedHosts ?? [],
    allowedOrigins: opts.allowedOrigins ?? [],
    identityHeader: opts.auth.identityHeader,
    trustedProxies: opts.trustedProxies ?? [],
    log,
    metrics,
  });
  const httpHandler = (req: IncomingMessage, res: ServerResponse) => {
    if (guards.admit(req, res)) api(req, res);
  };

  // One set of ownership rules for every worker-facing endpoint: an agent and a
  // Beam harness can never both speak for one id.
  const ownership = new WorkerOwnership();
  const beamStatus = createBeamStatusService(fleet, {
    ownership,
    ...opts.prober,
    statusDeadlineMs: opts.beam?.statusDeadlineMs ?? 3_000,
    maxStatusBytes: MAX_STATUS_BYTES,
    maxStreams: opts.beam?.maxStreams ?? 10_000,
    maxStreamsPerConnection: opts.beam?.maxStreamsPerConnection ?? 4,
    channels: beams,
    ...(opts.ownership ? { clusterOwnership: opts.ownership } : {}),
    ingest: (worker, answer, trigger) => collector.ingestBeam(worker, answer, trigger),
    onEvent: (workerId, summary) => events.record({ workerId, kind: "identity", summary }),
    metrics: beamMetrics,
    log,
  });
  const agentService = createAgentService(fleet, prober, agents, {
    ownership,
    ...opts.prober,
    statusIntervalMs: opts.status?.intervalMs ?? 10_000,
    statusDeadlineMs: 2_000,
    announceTimeoutMs: 5_000,
    ...(opts.agentAdmission ? { admission: opts.agentAdmission } : {}),
    redact,
    events,
    ...(opts.ownership ? { clusterOwnership: opts.ownership } : {}),
    log,
    onRefused: (reason) => metrics.agentRefused(reason),
    onTruncated: (stats) => metrics.workerTextCut(stats),
  });
  // Worker-facing: gRPC only, every message size-capped. Never the dashboard
  // API: every worker can reach this port, and the identity header and Host
  // checks that protect the API live on --http only.
  const grpcHandler = connectNodeAdapter({
    routes: (router) => {
      router.service(BeamFnWorkerStatus, beamStatus);
      router.service(AgentService, agentService);
    },
    connect: false,
    grpcWeb: false,
    readMaxBytes: MAX_WORKER_MESSAGE_BYTES,
    interceptors: [lifecycle],
    contextValues: (req) => withHttp2Session(req, peerContextValues(req)),
  });

  collector.start();
  const sweeper = systemClock.every(10_000, () => {
    const expired = expiredGoneWorkers(
      fleet.all(),
      staticWorkers.owned,
      opts.goneRetentionMs ?? 3_600_000,
      systemClock.now(),
    );
    for (const id of expired) {
      prober.removeTarget(id, { keepWorker: true });
      fleet.forget(id);
    }
    if (expired.length > 0)
      log.info({ workers: expired }, "workers gone longer than the retention removed");
  });
  return {
    localServices,
    fleet,
    events,
    collector,
    actions,
    metrics,
    agents,
    prober,
    staticWorkers,
    httpHandler,
    httpBound: (address) => guards.bound(address),
    grpcHandler,
    beginShutdown(reason) {
      stoppingReason = reason;
      stopping.abort();
    },
    readiness,
    close() {
      sweeper.cancel();
      collector.stop();
      prober.stop();
      fleet.flush();
      fleet.close();
      events.close();
      metrics.close();
    },
  };
}
