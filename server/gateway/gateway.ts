import type { IncomingMessage, ServerResponse } from "node:http";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { FleetService } from "../../gen/stallwatch/v1/fleet_pb.js";
import type { Logger } from "../logging/logger.js";
import type { HostPort } from "../net/host-port.js";
import { Fleet } from "../fleet/fleet.js";
import { createFleetService } from "../fleet/fleet-service.js";
import { HeartbeatProber, type ProberOptions } from "../heartbeats/heartbeat-prober.js";
import { createStaticHandler } from "./static-files.js";
import { EventLog } from "../events/event-log.js";
import { StatusCollector } from "../thread-dumps/status-collector.js";
import { createRedactor } from "../thread-dumps/redact.js";
import { defaultStallThresholds, type StallThresholds } from "../stalls/stall-rules.js";
import { BeamFnWorkerStatus } from "../../gen/org/apache/beam/model/fn_execution/v1/beam_fn_api_pb.js";
import { createBeamStatusService } from "../beam-status/beam-status-service.js";
import { peerContextValues } from "../net/peer-address.js";
import { AgentService } from "../../gen/stallwatch/v1/agent_pb.js";
import { createAgentService, type AgentChannels } from "../agents/agent-service.js";

/** Largest single message a worker may send; larger ones fail that stream only. */
const MAX_WORKER_MESSAGE_BYTES = 4 << 20;
/** Beam status text kept per harness. */
const MAX_STATUS_BYTES = 1 << 20;

export interface GatewayOptions {
  targets: HostPort[];
  prober: Omit<ProberOptions, "log">;
  /** Directory of the built SPA. */
  webRoot: string;
  thresholds?: StallThresholds;
  /** Regex sources whose matches are redacted from thread dumps (default: common secrets). */
  redactionPatterns?: string[];
  log: Logger;
}

export interface Gateway {
  fleet: Fleet;
  events: EventLog;
  collector: StatusCollector;
  /** Live agent streams by worker id. */
  agents: AgentChannels;
  prober: HeartbeatProber;
  /** Handler for the browser-facing HTTP/1.1 listener. */
  httpHandler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Handler for the worker-facing h2c listener (gRPC). */
  grpcHandler: ReturnType<typeof connectNodeAdapter>;
  close(): void;
}

/**
 * Builds the gateway without listening: the entry point owns sockets and
 * signals, tests can mount the handlers on ephemeral ports.
 */
export function createGateway(opts: GatewayOptions): Gateway {
  const fleet = new Fleet();
  const events = new EventLog();
  const agents: AgentChannels = new Map();
  const redact = createRedactor(opts.redactionPatterns);
  const collector = new StatusCollector(fleet, agents, events, {
    dumpIntervalMs: 10_000,
    watchedIntervalMs: 2_000,
    deadlineMs: 3_000,
    maxDumpsPerSecond: 50,
    thresholds: opts.thresholds ?? defaultStallThresholds,
    redact,
    log: opts.log,
  });
  const onLivenessChange = collector.onLivenessChange.bind(collector);
  const prober = new HeartbeatProber(fleet, { ...opts.prober, log: opts.log, onLivenessChange });
  for (const target of opts.targets) prober.addTarget(target);

  const fleetService = createFleetService({ fleet, events, collector });
  const routes = (router: ConnectRouter) => {
    router.service(FleetService, fleetService);
  };
  const serveStatic = createStaticHandler(opts.webRoot);
  const http = connectNodeAdapter({
    routes,
    grpc: false,
    // This adapter is only mounted on the HTTP/1.1 listener.
    fallback: (req, res) => {
      const path = req.url?.split("?")[0];
      if (path === "/healthz" || path === "/readyz") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("ok\n");
        return;
      }
      serveStatic(req as IncomingMessage, res as ServerResponse);
    },
  });
  const beamStatus = createBeamStatusService(fleet, {
    ...opts.prober,
    maxStatusBytes: MAX_STATUS_BYTES,
    redact,
    log: opts.log,
    onLivenessChange,
  });
  const agentService = createAgentService(fleet, prober, agents, {
    ...opts.prober,
    statusIntervalMs: 10_000,
    statusDeadlineMs: 2_000,
    announceTimeoutMs: 5_000,
    log: opts.log,
    onLivenessChange,
  });
  // Worker-facing: gRPC only, every message size-capped.
  const grpc = connectNodeAdapter({
    routes: (router) => {
      routes(router);
      router.service(BeamFnWorkerStatus, beamStatus);
      router.service(AgentService, agentService);
    },
    connect: false,
    grpcWeb: false,
    readMaxBytes: MAX_WORKER_MESSAGE_BYTES,
    contextValues: peerContextValues,
  });

  collector.start();
  return {
    fleet,
    events,
    collector,
    agents,
    prober,
    httpHandler: http,
    grpcHandler: grpc,
    close() {
      collector.stop();
      events.flush();
      prober.stop();
      fleet.flush();
      fleet.close();
    },
  };
}
