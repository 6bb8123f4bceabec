import type {
  Announce,
  FinishedSession,
  StatusReport,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import type { SessionView, ThreadDumpView } from "../../../gen/stallwatch/v1/fleet_pb.js";
import type { LivenessSnapshot } from "./liveness.js";
import type { SampleRing } from "./sample-ring.js";

export type WorkerKind = "spark" | "beam" | "agent";

/** A sample ring as readers see it: no `push`. */
export type SampleSeries = Omit<SampleRing, "push">;

/**
 * What the gateway knows about one worker, keyed by its id: a read-only view.
 * Only the fleet (fleet.ts) changes a worker, through its named operations,
 * so every change emits its event and reaches watchers the same way.
 */
export interface TrackedWorker {
  readonly id: string;
  readonly kind: WorkerKind;
  /** host:port the gateway probes, or the peer address. */
  readonly address: string;
  readonly liveness: { readonly current: Readonly<LivenessSnapshot> };
  /** Heartbeat round trips in milliseconds. */
  readonly roundTrips: SampleSeries;
  /**
   * When heartbeats went unanswered (deadline or error status), same
   * retention as round trips; made at the first miss, so a worker that
   * never missed one costs nothing for it.
   */
  readonly missedBeats?: SampleSeries;
  /** Latest HeartbeatResponse metrics, capped and redacted. */
  readonly metrics: Readonly<Record<string, string>>;
  /** Numeric heartbeat metrics over time, same retention as round trips. */
  readonly metricSeries: ReadonlyMap<string, SampleSeries>;
  /** The latest status text a Beam harness sent, raw and size-capped. */
  readonly beamStatus?: Readonly<BeamStatusSnapshot>;
  /** Present once a Stallwatch agent has announced this worker. */
  readonly agent?: Readonly<AgentLink>;
  /** Sessions, finished sessions and the latest thread dump, from the agent or Beam path. */
  readonly status: Readonly<WorkerStatus>;
}

export interface WorkerStatus {
  /** Live sessions, judged for stalls. */
  sessions: readonly SessionView[];
  finished: readonly FinishedSession[];
  latestDump?: ThreadDumpView;
  /** When sessions or a dump last arrived; 0 = never. */
  lastStatusAtMs: number;
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
  /** What the text was parsed into, once, when it arrived (server/gateway/beam-text). */
  format?: string;
  bundles?: {
    instructionId: string;
    descriptorId: string;
    trackedThread: string;
    threadId: string;
    timeSinceTransitionSec: number;
  }[];
  unparsed?: string;
  unparsedLines?: number;
}

/** A thread dump to pin to a worker's "late" event, taken when it turned late (bounded). */
export type EvidenceSource = (
  worker: TrackedWorker,
  trigger: string,
) => Promise<ThreadDumpView | undefined>;

/** A stall verdict on one session, as the stall rules give it. */
export interface SessionVerdict {
  stalled: boolean;
  reason: string;
  sinceMs: number;
  lastProgressAtMs: number;
}

/** What one status answer (an agent report or a Beam status) says about a worker. */
export interface StatusArrival {
  atMs: number;
  sessions: SessionView[];
  finished?: readonly FinishedSession[];
  dump?: ThreadDumpView;
  beamStatus?: BeamStatusSnapshot;
}
