import type { Snapshot } from "../../gen/stallwatch/v1/snapshot_pb.js";
import type { Clock } from "../shared/clock/clock.js";
import type { Logger } from "../shared/logging/logger.js";
import type { HostPort } from "../shared/net/host-port.js";
import type { AdmissionOptions } from "./agent-endpoint/agent-admission.js";
import type { AuthConfig } from "./auth/caller.js";
import type { FleetReader } from "./fleet/fleet-reader.js";
import type { ClusterOwnership } from "./fleet/ownership.js";
import type { ProberOptions } from "./heartbeats/heartbeat-prober.js";
import type { BrowserServices } from "./http/browser-http.js";
import type { PolicyCrashPoint } from "./policies/policy-engine.js";
import type { PolicySpec } from "./policies/policy-spec.js";
import type { NotifyOptions } from "./notifications/start-notifier.js";
import type { StallThresholds } from "./stalls/stall-rules.js";
import type { Store } from "./store/store.js";

/** Everything a gateway is built from (gateway-command.ts turns flags into this). */
export interface GatewayOptions {
  targets: HostPort[];
  prober: Omit<ProberOptions, "log" | "clock">;
  /**
   * The one clock every time-based part of the gateway runs on: the command
   * passes systemClock, tests a FakeClock. Probe threads keep the real one.
   */
  clock: Clock;
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
  /** Profiles started per minute, fleet-wide (default 10): each costs a worker CPU. */
  profilesPerMinute?: number;
  snapshotRetentionMs?: number;
  /** Where people reach the dashboard (`--public-url`): alert and notification links (default the bound address). */
  publicUrl?: string;
  /** Outgoing notifications (`--notify-webhook`); none by default. */
  notify?: NotifyOptions;
  /** Remediation policies (`--policy-file`); none by default. */
  policies?: {
    specs: PolicySpec[];
    /** Shown by ListPolicies, e.g. "--policy-file /etc/stallwatch/policies.yaml". */
    source: string;
    /** In a cluster: this gateway's id, recorded on its decisions. */
    gatewayId?: string;
    /** Test-only: where to stop the process (STALLWATCH_TEST_EXIT_AT). */
    crashAt?: (point: PolicyCrashPoint) => void;
  };
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
  /** Agent token, loopback rule, agent caps and address trust (see agent-endpoint/agent-admission.ts). */
  agentAdmission?: Partial<AdmissionOptions>;
  /** Cluster-wide ownership of dial-in worker ids (default: this process decides alone). */
  ownership?: ClusterOwnership;
  /**
   * In a cluster: the browser API's services wrapped to serve the whole
   * fleet (server/gateway/cluster); the local ones stay available as `localServices`.
   */
  wrapServices?: (local: BrowserServices, parts: { fleet: FleetReader }) => BrowserServices;
  /** In a cluster: completes a snapshot with the other gateways' workers. */
  gatherShards?: (snapshot: Snapshot) => Promise<void>;
  log: Logger;
}
