import type { FlagValues } from "../../shared/cli/command.js";
import { UsageError } from "../../shared/cli/usage-error.js";
import { isLoopbackHost, type HostPort } from "../../shared/net/host-port.js";
import { CLUSTER_SETTINGS, loadClusterSettings, type ClusterSettings } from "./cluster-settings.js";
import {
  loadPeopleEdge,
  PEOPLE_EDGE_SETTINGS,
  type PeopleEdgeConfig,
} from "./people-edge-settings.js";
import { loadNotifySettings, NOTIFY_SETTINGS, type NotifySettings } from "./notify-settings.js";
import { LINK_SETTINGS, loadLinkSettings, type LinkSettings } from "./link-settings.js";
import { loadPolicySettings, POLICY_SETTINGS, type PolicySettings } from "./policy-settings.js";
import { loadProbeSettings, PROBE_SETTINGS, type ProbeSettings } from "./probe-settings.js";
import { createSettingReader, isListKind } from "./setting-reader.js";
import { loadStallSettings, STALL_SETTINGS, type StallSettings } from "./stall-settings.js";
import { loadStatusSettings, STATUS_SETTINGS, type StatusSettings } from "./status-settings.js";
import { loadStoreSettings, STORE_SETTINGS, type StoreSettings } from "./store-settings.js";
import {
  loadWorkerEdgeSettings,
  WORKER_EDGE_SETTINGS,
  type WorkerEdgeSettings,
} from "./worker-edge-settings.js";

/** Everything the gateway can be told, after validation. Durations in ms. */
export interface GatewayConfig
  extends
    ClusterSettings,
    StatusSettings,
    ProbeSettings,
    StallSettings,
    StoreSettings,
    WorkerEdgeSettings,
    LinkSettings,
    NotifySettings,
    PolicySettings,
    PeopleEdgeConfig {
  http: HostPort;
  grpc: HostPort;
  workers: HostPort[];
  goneRetentionMs: number;
  /** SIGTERM: how long requests in flight may take before the gateway exits. */
  shutdownGraceMs: number;
  /** At start: how long to wait for a worker to come back to settle its action. */
  reconcileWaitMs: number;
  /** Derived: no one may act (bound beyond loopback without operator auth). */
  readOnly: boolean;
}

/** Each setting: flag name, env var (config-file key: the flag in camelCase), kind and default. */
const SETTINGS = {
  http: { env: "STALLWATCH_HTTP", kind: "listen", fallback: "127.0.0.1:8080" },
  grpc: { env: "STALLWATCH_GRPC", kind: "listen", fallback: "127.0.0.1:8081" },
  worker: { env: "STALLWATCH_WORKERS", kind: "targets" },
  "gone-retention-ms": {
    env: "STALLWATCH_GONE_RETENTION_MS",
    kind: "ms",
    fallback: "3600000",
    min: 1000,
  },
  "shutdown-grace-ms": {
    env: "STALLWATCH_SHUTDOWN_GRACE_MS",
    kind: "ms",
    fallback: "5000",
    min: 0,
  },
  "reconcile-wait-ms": {
    env: "STALLWATCH_RECONCILE_WAIT_MS",
    kind: "ms",
    fallback: "15000",
    min: 0,
  },
  ...PROBE_SETTINGS,
  ...STALL_SETTINGS,
  ...STORE_SETTINGS,
  ...PEOPLE_EDGE_SETTINGS,
  ...WORKER_EDGE_SETTINGS,
  ...STATUS_SETTINGS,
  ...CLUSTER_SETTINGS,
  ...LINK_SETTINGS,
  ...NOTIFY_SETTINGS,
  ...POLICY_SETTINGS,
} as const;

/** parseArgs options for every setting, plus `--config FILE`. */
export const gatewayFlagOptions = {
  config: { type: "string" },
  ...Object.fromEntries(
    Object.entries(SETTINGS).map(([name, s]) => [
      name,
      s.kind === "bool"
        ? { type: "boolean" }
        : { type: "string", ...(isListKind(s.kind) ? { multiple: true } : {}) },
    ]),
  ),
} as const satisfies Record<string, { type: "string" | "boolean"; multiple?: boolean }>;

/**
 * Reads the configuration: flags, then environment variables, then the JSON
 * file named by `--config` / `STALLWATCH_CONFIG`, then defaults. Every
 * problem is collected and reported at once, so a bad deployment is fixed in
 * one round instead of one error per restart.
 */
export function loadGatewayConfig(
  flags: FlagValues,
  env: NodeJS.ProcessEnv = process.env,
): GatewayConfig {
  const problems: string[] = [];
  const read = createSettingReader(SETTINGS, flags, env, problems);
  const workerEdge = loadWorkerEdgeSettings(read, problems);
  const edge = loadPeopleEdge(read, problems);
  const store = loadStoreSettings(read);
  const cluster = loadClusterSettings(read, store.dbPath, problems, edge.warnings);
  const http = read.hostPort("http", true)[0] ?? { host: "127.0.0.1", port: 8080 };
  const config: GatewayConfig = {
    http,
    grpc: read.hostPort("grpc", true)[0] ?? { host: "127.0.0.1", port: 8081 },
    workers: read.hostPort("worker", false),
    ...loadProbeSettings(read, problems),
    ...loadStatusSettings(read.number, problems),
    ...loadStallSettings(read.number),
    goneRetentionMs: read.number("gone-retention-ms"),
    shutdownGraceMs: read.number("shutdown-grace-ms"),
    reconcileWaitMs: read.number("reconcile-wait-ms"),
    ...store,
    ...workerEdge,
    ...edge,
    ...cluster,
    ...loadLinkSettings(read, problems),
    ...loadNotifySettings(read, problems, edge.warnings),
    ...loadPolicySettings(read, problems),
    readOnly: false,
  };
  if (problems.length > 0) {
    throw new UsageError(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
  }
  const exposed = !isLoopbackHost(http.host);
  config.readOnly = exposed && !config.operatorToken && !config.identityHeader;
  return config;
}
