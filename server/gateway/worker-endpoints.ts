import type { Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { BeamFnWorkerStatus } from "../../gen/org/apache/beam/model/fn_execution/v1/beam_fn_api_pb.js";
import { AgentService } from "../../gen/stallwatch/v1/agent_pb.js";
import type { Logger } from "../shared/logging/logger.js";
import { peerContextValues } from "../shared/net/peer-address.js";
import type { AgentChannels } from "./agent-endpoint/agent-options.js";
import { createAgentService } from "./agent-endpoint/agent-service.js";
import type { BeamMetrics } from "./beam-endpoint/beam-metrics.js";
import { createBeamStatusService, type BeamChannels } from "./beam-endpoint/beam-status-service.js";
import { withHttp2Session } from "./beam-endpoint/stream-context.js";
import type { EventLog } from "./events/event-log.js";
import type { Fleet } from "./fleet/fleet.js";
import { WorkerOwnership } from "./fleet/ownership.js";
import type { GatewayOptions } from "./gateway-options.js";
import type { HeartbeatProber } from "./heartbeats/heartbeat-prober.js";
import type { GatewayMetrics } from "./metrics/gateway-metrics.js";
import type { Redactor } from "./redaction/redact.js";
import type { StatusCollector } from "./status-intake/status-collector.js";

/** Largest single message a worker may send; larger ones fail that stream only. */
const MAX_WORKER_MESSAGE_BYTES = 4 << 20;
/** Beam status text kept per harness. */
const MAX_STATUS_BYTES = 1 << 20;

export interface WorkerEndpointParts {
  fleet: Fleet;
  prober: HeartbeatProber;
  agents: AgentChannels;
  beams: BeamChannels;
  events: EventLog;
  collector: StatusCollector;
  metrics: GatewayMetrics;
  beamMetrics: BeamMetrics;
  redact: Redactor;
  lifecycle: Interceptor;
  options: Pick<
    GatewayOptions,
    "prober" | "beam" | "status" | "agentAdmission" | "ownership" | "clock"
  >;
  log: Logger;
}

/**
 * The worker-facing h2c listener's handler: agents (AgentService.Connect) and
 * Beam harnesses (BeamFnWorkerStatus), gRPC only, every message size-capped.
 * Never the dashboard API: every worker can reach this port, and the
 * identity header and Host checks that protect the API live on --http only.
 */
export function createWorkerGrpc(
  parts: WorkerEndpointParts,
): ReturnType<typeof connectNodeAdapter> {
  const { fleet, events, metrics, log, options: opts } = parts;
  // One set of ownership rules for every worker-facing endpoint: an agent and a
  // Beam harness can never both speak for one id.
  const ownership = new WorkerOwnership();
  const clusterOwnership = opts.ownership ? { clusterOwnership: opts.ownership } : {};
  const beamStatus = createBeamStatusService(fleet, {
    ownership,
    ...clusterOwnership,
    intervalMs: opts.prober.intervalMs,
    deadlineMs: opts.prober.deadlineMs,
    statusDeadlineMs: opts.beam?.statusDeadlineMs ?? 3_000,
    maxStatusBytes: MAX_STATUS_BYTES,
    maxStreams: opts.beam?.maxStreams ?? 10_000,
    maxStreamsPerConnection: opts.beam?.maxStreamsPerConnection ?? 4,
    channels: parts.beams,
    ingest: (worker, answer, trigger) => parts.collector.ingestBeam(worker, answer, trigger),
    onEvent: (workerId, summary) => events.record({ workerId, kind: "identity", summary }),
    metrics: parts.beamMetrics,
    clock: opts.clock,
    log,
  });
  const agentService = createAgentService(fleet, parts.prober, parts.agents, {
    ownership,
    ...clusterOwnership,
    intervalMs: opts.prober.intervalMs,
    statusIntervalMs: opts.status?.intervalMs ?? 10_000,
    statusDeadlineMs: 2_000,
    announceTimeoutMs: 5_000,
    ...(opts.agentAdmission ? { admission: opts.agentAdmission } : {}),
    redact: parts.redact,
    events,
    log,
    onRefused: (reason) => metrics.agentRefused(reason),
    onTruncated: (stats) => metrics.workerTextCut(stats),
    clock: opts.clock,
  });
  return connectNodeAdapter({
    routes: (router) => {
      router.service(BeamFnWorkerStatus, beamStatus);
      router.service(AgentService, agentService);
    },
    connect: false,
    grpcWeb: false,
    readMaxBytes: MAX_WORKER_MESSAGE_BYTES,
    interceptors: [parts.lifecycle],
    contextValues: (req) => withHttp2Session(req, peerContextValues(req)),
  });
}
