import type { Clock } from "../../shared/clock/clock.js";
import type { Logger } from "../../shared/logging/logger.js";
import type { EventLog } from "../events/event-log.js";
import type { ClusterOwnership, WorkerOwnership } from "../fleet/ownership.js";
import type { Redactor } from "../redaction/redact.js";
import type { AdmissionOptions, RefusalReason } from "./agent-admission.js";
import type { AgentChannel } from "./agent-channel.js";
import type { IngestCaps, IngestStats } from "./agent-ingest.js";

export interface AgentServiceOptions {
  /** Status (sessions, no threads) this often for every agent. */
  statusIntervalMs: number;
  /** Deadline on each status request. */
  statusDeadlineMs: number;
  /** Time a new stream has to send its Announce. */
  announceTimeoutMs: number;
  /** Heartbeat interval, for agents without a Manage address. */
  intervalMs: number;
  /** Token, loopback rule, caps and address trust (defaults: DEFAULT_ADMISSION, no token). */
  admission?: Partial<AdmissionOptions>;
  /** Per-message caps at the ingest boundary (default DEFAULT_INGEST_CAPS). */
  caps?: IngestCaps;
  /** Applied to every string an agent sends, after capping. */
  redact: Redactor;
  /** Who speaks for each id; shared with other worker endpoints. */
  ownership?: WorkerOwnership;
  events?: EventLog;
  log: Logger;
  clock: Clock;
  /** Counted in /metrics. */
  onRefused?: (reason: RefusalReason) => void;
  onTruncated?: (stats: IngestStats) => void;
  /** Cluster-wide claim on the worker id, asked after the local one (server/gateway/cluster). */
  clusterOwnership?: ClusterOwnership;
}

/** Live agent streams by worker id, for on-demand status and commands. */
export type AgentChannels = Map<string, AgentChannel>;
