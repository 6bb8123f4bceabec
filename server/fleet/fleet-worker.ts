import type { Announce, StatusReport } from "../../gen/stallwatch/v1/agent_pb.js";
import { LivenessTracker } from "../heartbeats/liveness.js";
import { SampleRing } from "../heartbeats/sample-ring.js";

export type WorkerKind = "spark" | "beam" | "agent";

/** What the gateway knows about one worker, keyed by its id. */
export interface FleetWorker {
  id: string;
  kind: WorkerKind;
  /** host:port the gateway probes, or the peer address. */
  address: string;
  liveness: LivenessTracker;
  /** Heartbeat round trips in milliseconds. */
  roundTrips: SampleRing;
  /** Latest HeartbeatResponse metrics. */
  metrics: Record<string, string>;
  /** The latest status text a Beam harness sent, raw and size-capped. */
  beamStatus?: BeamStatusSnapshot;
  /** Present once a Stallwatch agent has announced this worker. */
  agent?: AgentLink;
}

/** The agent path of a worker, judged separately from its Manage heartbeats. */
export interface AgentLink {
  announce: Announce;
  connected: boolean;
  /** When the stream opened, or closed when `connected` is false. */
  sinceMs: number;
  /** Why the stream closed, when it did. */
  closedReason: string;
  lastReport?: { receivedAtMs: number; rttMs: number; report: StatusReport };
}

export interface BeamStatusSnapshot {
  receivedAtMs: number;
  /** Exactly as received, cut at the size cap. */
  raw: string;
  truncated: boolean;
  /** The harness's `error` field, when it could not produce a status. */
  error: string;
}

export interface FleetWorkerOptions {
  unresponsiveAfter: number;
  /** Samples kept per worker (retention / interval). */
  sampleCapacity: number;
}

export function createFleetWorker(
  id: string,
  kind: WorkerKind,
  address: string,
  opts: FleetWorkerOptions,
  nowMs: number,
): FleetWorker {
  return {
    id,
    kind,
    address,
    liveness: new LivenessTracker(opts.unresponsiveAfter, nowMs),
    roundTrips: new SampleRing(opts.sampleCapacity),
    metrics: {},
  };
}
