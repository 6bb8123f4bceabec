import type { Profile } from "../../gen/stallwatch/v1/profile_pb.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { connectNodeAdapter } from "@connectrpc/connect-node";
import { formatHostPort, type HostPort } from "../shared/net/host-port.js";
import { ActionRunner } from "./actions/action-runner.js";
import { createControlService } from "./actions/control-service.js";
import { ProfileRunner } from "./profiles/profile-runner.js";
import { createProfileService } from "./profiles/profile-service.js";
import type { AgentChannels } from "./agent-endpoint/agent-options.js";
import { BeamMetrics } from "./beam-endpoint/beam-metrics.js";
import type { BeamChannels } from "./beam-endpoint/beam-status-service.js";
import { StaticAssignment } from "./cluster/static-workers.js";
import { EventLog } from "./events/event-log.js";
import { Fleet } from "./fleet/fleet.js";
import { expiredGoneWorkers } from "./fleet/gone-workers.js";
import { createFleetService } from "./http/fleet-service.js";
import { HeartbeatProber } from "./heartbeats/heartbeat-prober.js";
import { createBrowserHttp, type BrowserServices } from "./http/browser-http.js";
import { createLifecycleInterceptor } from "./process-lifecycle/lifecycle-interceptor.js";
import { Readiness } from "./process-lifecycle/readiness.js";
import { GatewayMetrics } from "./metrics/gateway-metrics.js";
import { ClusterMetrics } from "./metrics/cluster-metrics.js";
import { HealthMetrics } from "./metrics/health-metrics.js";
import { createRedactor } from "./redaction/redact.js";
import { SnapshotRateLimit } from "./snapshots/snapshot-rate-limit.js";
import {
  createSnapshotService,
  createSnapshotTaker,
  type SnapshotServiceDeps,
} from "./snapshots/snapshot-service.js";
import { NotifyMetrics } from "./metrics/notify-metrics.js";
import { startNotifier } from "./notifications/start-notifier.js";
import { defaultStallThresholds } from "./stalls/stall-rules.js";
import { StatusCollector } from "./status-intake/status-collector.js";
import { createWorkerGrpc } from "./worker-endpoints.js";
import { PolicyEngine } from "./policies/policy-engine.js";
import { PolicyMetrics } from "./policies/policy-metrics.js";
import { createPolicyService } from "./policies/policy-service.js";

import type { Clock } from "../shared/clock/clock.js";
import type { GatewayOptions } from "./gateway-options.js";

export interface Gateway {
  /** This gateway's own services, unmerged (what it serves to peers of a cluster). */
  localServices: BrowserServices;
  /** The clock every part runs on (createGateway's `clock`). */
  clock: Clock;
  fleet: Fleet;
  events: EventLog;
  collector: StatusCollector;
  actions: ActionRunner;
  /** Remediation policies; judging starts with `policies.start` (gateway-command.ts). */
  policies: PolicyEngine;
  metrics: GatewayMetrics;
  /** Members of its cluster as this gateway sees them (itself alone until it joins one). */
  clusterMetrics: ClusterMetrics;
  /** Live agent streams by worker id. */
  agents: AgentChannels;
  /** This gateway's recent profiles, newest first (its peers gather them into snapshots). */
  recentProfiles(): readonly Profile[];
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
  const clock = opts.clock;
  const events = new EventLog(clock, 5000, (batch) => {
    // A fatal failure was already reported through the store's onFatal.
    store.appendEvents(batch).catch((err: unknown) => {
      log.error({ err: (err as Error).message, events: batch.length }, "events not recorded");
    });
  });
  const fleet = new Fleet({
    clock,
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
      clock,
      log,
    },
    beams,
  );
  // A worker that turns late gets a thread dump pinned to its event.
  fleet.takeEvidenceFrom((worker, trigger) => collector.collectNow(worker, trigger));
  const prober = new HeartbeatProber(fleet, {
    ...opts.prober,
    clock,
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
  const profiles = new ProfileRunner({
    fleet,
    agents,
    beams,
    collector,
    clock,
    log,
    dumpEveryMs: opts.status?.watchedIntervalMs ?? 2_000,
    perMinute: opts.profilesPerMinute ?? 10,
  });
  const actions = new ActionRunner({
    fleet,
    prober,
    agents,
    events,
    store,
    clock,
    log,
    profiles,
    onEnded: (action) => metrics.actionEnded(action),
  });

  const fleetService = createFleetService({ fleet, events, collector, clock });
  const controlService = createControlService(actions, store, opts.auth, clock);
  const snapshotsPerMinute = opts.snapshotsPerMinute ?? { perCaller: 10, total: 60 };
  metrics.snapshotRateLimits(snapshotsPerMinute.perCaller, snapshotsPerMinute.total);
  const recentProfiles = () => profiles.book.list("", 100);
  const snapshotDeps: SnapshotServiceDeps = {
    fleet,
    events,
    collector,
    store,
    auth: opts.auth,
    retentionMs: opts.snapshotRetentionMs ?? 30 * 86_400_000,
    rateLimit: new SnapshotRateLimit({
      perCallerPerMinute: snapshotsPerMinute.perCaller,
      totalPerMinute: snapshotsPerMinute.total,
      clock,
    }),
    clock,
    onCreated: () => metrics.snapshotCreated(),
    onRefused: (scope) => metrics.snapshotRefused(scope),
    ...(opts.gatherShards ? { gatherShards: opts.gatherShards } : {}),
    profiles: () => recentProfiles(),
    log,
  };
  const snapshotService = createSnapshotService(snapshotDeps);
  const takeSnapshot = createSnapshotTaker(snapshotDeps);
  const policySpecs = opts.policies?.specs ?? [];
  const recordEvent = (event: Parameters<EventLog["record"]>[0]) => void events.record(event);
  const policies = new PolicyEngine({
    specs: policySpecs,
    fleet,
    actions,
    store,
    record: recordEvent,
    metrics: new PolicyMetrics(
      metrics.registry,
      policySpecs.map((s) => s.name),
    ),
    // Policies share one snapshot budget key: they never use up an operator's.
    takeSnapshot: async (actor, workerId, note) =>
      (await takeSnapshot({ actor, key: "policies" }, { workerId, note })).id,
    clock,
    log: log.child({ component: "policies" }),
    intervalMs: opts.status?.intervalMs ?? 10_000,
    gatewayId: opts.policies?.gatewayId ?? "",
    ...(opts.policies?.crashAt ? { crashAt: opts.policies.crashAt } : {}),
  });
  const localServices: BrowserServices = {
    fleet: fleetService,
    control: controlService,
    snapshot: snapshotService,
    profile: createProfileService({ runner: profiles, actions, auth: opts.auth, clock }),
    policy: createPolicyService({
      engine: policies,
      store,
      auth: opts.auth,
      clock,
      record: recordEvent,
      source: opts.policies?.source ?? "",
    }),
  };

  const stopping = new AbortController();
  const ready = new Readiness(store);
  const readiness = () => ready.check();
  // A lone gateway is a cluster of one; gateway-cluster.ts reports the real members.
  const clusterMetrics = new ClusterMetrics(metrics.registry);
  clusterMetrics.membersSeen(["self"]);
  const health = new HealthMetrics(metrics.registry, {
    readiness,
    storeFailures: () => store.failures,
    dumpBudget: () => collector.dumpBudget(),
  });
  const lifecycle = createLifecycleInterceptor(stopping.signal);
  const browser = createBrowserHttp({
    clock,
    services: opts.wrapServices?.(localServices, { fleet }) ?? localServices,
    lifecycle,
    readiness,
    metrics,
    store,
    webRoot: opts.webRoot,
    guards: {
      allowedHosts: opts.allowedHosts ?? [],
      allowedOrigins: opts.allowedOrigins ?? [],
      identityHeader: opts.auth.identityHeader,
      trustedProxies: opts.trustedProxies ?? [],
    },
    log,
  });
  const grpcHandler = createWorkerGrpc({
    fleet,
    prober,
    agents,
    beams,
    events,
    collector,
    metrics,
    beamMetrics,
    redact,
    lifecycle,
    options: opts,
    log,
  });

  let publicUrl = opts.publicUrl ?? "";
  const stopNotifier = startNotifier(opts.notify, {
    events,
    incidents: store,
    takeSnapshot: createSnapshotTaker(snapshotDeps),
    publicUrl: () => publicUrl,
    metrics: new NotifyMetrics(metrics.registry),
    clock,
    log,
  });
  collector.start();
  const sweeper = clock.every(10_000, () => {
    const expired = expiredGoneWorkers(
      fleet.all(),
      staticWorkers.owned,
      opts.goneRetentionMs ?? 3_600_000,
      clock.now(),
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
    clock,
    fleet,
    events,
    collector,
    actions,
    policies,
    metrics,
    clusterMetrics,
    agents,
    recentProfiles,
    prober,
    staticWorkers,
    httpHandler: browser.handler,
    httpBound(address) {
      browser.bound(address);
      publicUrl = opts.publicUrl ?? `http://${formatHostPort(address)}`;
      health.publicUrl(publicUrl);
    },
    grpcHandler,
    beginShutdown(reason) {
      ready.stop(reason);
      stopping.abort();
    },
    readiness,
    close() {
      stopNotifier();
      policies.stop();
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
