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
  log: Logger;
}

export interface Gateway {
  fleet: Fleet;
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
  const prober = new HeartbeatProber(fleet, { ...opts.prober, log: opts.log });
  for (const target of opts.targets) prober.addTarget(target);

  const routes = (router: ConnectRouter) => {
    router.service(FleetService, createFleetService(fleet));
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
    log: opts.log,
  });
  const agents: AgentChannels = new Map();
  const agentService = createAgentService(fleet, prober, agents, {
    ...opts.prober,
    statusIntervalMs: 10_000,
    statusDeadlineMs: 2_000,
    announceTimeoutMs: 5_000,
    log: opts.log,
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

  return {
    fleet,
    agents,
    prober,
    httpHandler: http,
    grpcHandler: grpc,
    close() {
      prober.stop();
      fleet.flush();
      fleet.close();
    },
  };
}
