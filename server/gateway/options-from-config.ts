import type { Clock } from "../shared/clock/clock.js";
import { fileURLToPath } from "node:url";
import { SessionState } from "../../gen/stallwatch/v1/agent_pb.js";
import type { Logger } from "../shared/logging/logger.js";
import type { AuthConfig } from "./auth/caller.js";
import type { GatewayConfig } from "./config/gateway-config.js";
import type { GatewayOptions } from "./gateway-options.js";
import type { PolicyCrashPoint } from "./policies/policy-engine.js";
import { defaultProberOptions } from "./heartbeats/heartbeat-prober.js";
import { defaultStallThresholds } from "./stalls/stall-rules.js";
import { DEFAULT_REDACTION_PATTERNS } from "./redaction/redact.js";
import type { Store } from "./store/store.js";

const DEFAULT_WEB_ROOT = fileURLToPath(new URL("../../web/", import.meta.url));

/** Who may do what, as the validated configuration says. */
export function authFromConfig(config: GatewayConfig): AuthConfig {
  return {
    readOnly: config.readOnly,
    ...(config.operatorToken ? { operatorToken: config.operatorToken } : {}),
    ...(config.identityHeader ? { identityHeader: config.identityHeader } : {}),
    ...(config.viewerToken ? { viewerToken: config.viewerToken } : {}),
  };
}

/**
 * createGateway's options from the validated configuration, plus what the
 * command owns: the store, the cluster's wrappers and what a dead probe
 * thread does to the process.
 */
export function gatewayOptionsFromConfig(
  config: GatewayConfig,
  parts: {
    store: Store;
    auth: AuthConfig;
    cluster: Partial<GatewayOptions>;
    clock: Clock;
    onProbeThreadDied: (err: Error) => void;
    /** Test-only crash points (gateway-command.ts reads STALLWATCH_TEST_EXIT_AT). */
    crashAt?: (point: PolicyCrashPoint) => void;
    log: Logger;
  },
): GatewayOptions {
  return {
    // Static workers come from refreshStaticTargets (flags, config, DNS).
    targets: [],
    ...parts.cluster,
    prober: {
      ...defaultProberOptions,
      intervalMs: config.intervalMs,
      deadlineMs: config.deadlineMs,
      unresponsiveAfter: config.unresponsiveAfter,
      probeThreads: config.probeThreads,
      onFatal: parts.onProbeThreadDied,
      retentionMs: config.retentionMs,
    },
    store: parts.store,
    clock: parts.clock,
    auth: parts.auth,
    allowedOrigins: config.allowedOrigins,
    allowedHosts: config.allowedHosts,
    trustedProxies: config.trustedProxies,
    snapshotsPerMinute: config.snapshotsPerMinute,
    goneRetentionMs: config.goneRetentionMs,
    snapshotRetentionMs: config.snapshotRetentionMs,
    webRoot: config.webRoot ?? DEFAULT_WEB_ROOT,
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    notify: config.notify,
    policies: {
      specs: config.policies,
      source: config.policySource,
      ...(config.cluster ? { gatewayId: config.cluster.gatewayId } : {}),
      ...(parts.crashAt ? { crashAt: parts.crashAt } : {}),
    },
    thresholds: {
      byState: {
        ...defaultStallThresholds.byState,
        [SessionState.PROCESSING]: config.stallProcessingMs,
      },
      noProgressMs: config.stallNoProgressMs,
    },
    redactionPatterns: [...DEFAULT_REDACTION_PATTERNS, ...config.redact],
    status: {
      intervalMs: config.statusIntervalMs,
      watchedIntervalMs: config.watchedStatusIntervalMs,
      notMovingMs: config.notMovingMs,
    },
    beam: {
      maxDumpsPerSecond: config.maxDumpsPerSecond,
      statusDeadlineMs: config.beamStatusDeadlineMs,
      maxStreams: config.maxBeamStreams,
      maxStreamsPerConnection: config.maxBeamStreamsPerConnection,
    },
    agentAdmission: {
      ...(config.agentToken ? { agentToken: config.agentToken } : {}),
      trustAnnouncedAddress: config.trustAnnouncedAddress,
      maxAgents: config.maxAgents,
      maxPendingBytes: config.agentPendingMemoryMib << 20,
      admissionsPerTurn: config.agentAdmissionsPerTurn,
    },
    log: parts.log,
  };
}
