import { readFileSync } from "node:fs";
import type { FlagValues } from "../../shared/cli/command.js";
import { UsageError } from "../../shared/cli/usage-error.js";
import { isLoopbackHost, parseHostPort, type HostPort } from "../../shared/net/host-port.js";
import { CLUSTER_SETTINGS, loadClusterSettings, type ClusterSettings } from "./cluster-settings.js";
import { loadPeopleEdge, PEOPLE_EDGE_SETTINGS } from "./people-edge-settings.js";
import { unsafePatternReason } from "../redaction/redact.js";
import { loadProbeThreads, PROBE_SETTINGS } from "./probe-settings.js";
import { loadStatusSettings, STATUS_SETTINGS, type StatusSettings } from "./status-settings.js";

/** Everything the gateway can be told, after validation. Durations in ms. */
export interface GatewayConfig extends ClusterSettings, StatusSettings {
  http: HostPort;
  grpc: HostPort;
  workers: HostPort[];
  intervalMs: number;
  deadlineMs: number;
  unresponsiveAfter: number;
  /** Worker threads that probe (`--probe-threads`); 0 probes on the main thread. */
  probeThreads: number;
  retentionMs: number;
  stallNoProgressMs: number;
  stallProcessingMs: number;
  notMovingMs: number;
  goneRetentionMs: number;
  /** SIGTERM: how long requests in flight may take before the gateway exits. */
  shutdownGraceMs: number;
  /** At start: how long to wait for a worker to come back to settle its action. */
  reconcileWaitMs: number;
  /** How often the store's write probe runs (it also runs on every /readyz). */
  storeCheckMs: number;
  redact: string[];
  dbPath: string;
  snapshotRetentionMs: number;
  eventRetentionMs: number;
  auditRetentionMs: number;
  operatorToken: string | undefined;
  identityHeader: string | undefined;
  allowedOrigins: string[];
  webRoot: string | undefined;
  // Worker-facing edge (helper "edge"): agent identity and caps.
  /** Fleet agent token (flag, env, or --agent-token-file); undefined = loopback agents only. */
  agentToken: string | undefined;
  trustAnnouncedAddress: boolean;
  maxAgents: number;
  /** Derived: no one may act (bound beyond loopback without operator auth). */
  readOnly: boolean;
  // The people-facing edge: who may list snapshots, whose identity header
  // counts, which Host names are ours, the snapshot budget.
  viewerToken: string | undefined;
  trustedProxies: string[];
  allowedHosts: string[];
  snapshotsPerMinute: { perCaller: number; total: number };
  /** Not errors, but worth a line at start (e.g. a token visible in `ps`). */
  warnings: string[];
}

const DAY = 86_400_000;

/** Each setting: flag name, env var, config-file key, kind and default. */
const SETTINGS = {
  http: { env: "STALLWATCH_HTTP", kind: "listen", fallback: "127.0.0.1:8080" },
  grpc: { env: "STALLWATCH_GRPC", kind: "listen", fallback: "127.0.0.1:8081" },
  worker: { env: "STALLWATCH_WORKERS", kind: "targets", fallback: "" },
  "interval-ms": { env: "STALLWATCH_INTERVAL_MS", kind: "ms", fallback: "1000", min: 10 },
  "deadline-ms": { env: "STALLWATCH_DEADLINE_MS", kind: "ms", fallback: "1000", min: 10 },
  "unresponsive-after": {
    env: "STALLWATCH_UNRESPONSIVE_AFTER",
    kind: "count",
    fallback: "3",
    min: 1,
  },
  "retention-ms": {
    env: "STALLWATCH_RETENTION_MS",
    kind: "ms",
    fallback: String(15 * 60_000),
    min: 1000,
  },
  "stall-no-progress-ms": {
    env: "STALLWATCH_STALL_NO_PROGRESS_MS",
    kind: "ms",
    fallback: "300000",
    min: 100,
  },
  "stall-processing-ms": {
    env: "STALLWATCH_STALL_PROCESSING_MS",
    kind: "ms",
    fallback: "300000",
    min: 100,
  },
  "not-moving-ms": { env: "STALLWATCH_NOT_MOVING_MS", kind: "ms", fallback: "10000", min: 0 },
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
  "store-check-ms": { env: "STALLWATCH_STORE_CHECK_MS", kind: "ms", fallback: "5000", min: 100 },
  redact: { env: "STALLWATCH_REDACT", kind: "regexes", fallback: "" },
  db: { env: "STALLWATCH_DB", kind: "string", fallback: "./.stallwatch/stallwatch.db" },
  "snapshot-retention-days": {
    env: "STALLWATCH_SNAPSHOT_RETENTION_DAYS",
    kind: "days",
    fallback: "30",
    min: 0.001,
  },
  "event-retention-days": {
    env: "STALLWATCH_EVENT_RETENTION_DAYS",
    kind: "days",
    fallback: "7",
    min: 0.001,
  },
  "audit-retention-days": {
    env: "STALLWATCH_AUDIT_RETENTION_DAYS",
    kind: "days",
    fallback: "90",
    min: 0.001,
  },
  "operator-token": { env: "STALLWATCH_OPERATOR_TOKEN", kind: "string", fallback: "" },
  "identity-header": { env: "STALLWATCH_IDENTITY_HEADER", kind: "string", fallback: "" },
  "allowed-origin": { env: "STALLWATCH_ALLOWED_ORIGINS", kind: "list", fallback: "" },
  "web-root": { env: "STALLWATCH_WEB_ROOT", kind: "string", fallback: "" },
  ...PEOPLE_EDGE_SETTINGS,
  // Worker-facing edge: agent identity and caps.
  "agent-token": { env: "STALLWATCH_AGENT_TOKEN", kind: "string", fallback: "" },
  "agent-token-file": { env: "STALLWATCH_AGENT_TOKEN_FILE", kind: "string", fallback: "" },
  "trust-announced-address": {
    env: "STALLWATCH_TRUST_ANNOUNCED_ADDRESS",
    kind: "bool",
    fallback: "false",
  },
  "max-agents": { env: "STALLWATCH_MAX_AGENTS", kind: "count", fallback: "10000", min: 1 },
  ...PROBE_SETTINGS,
  ...STATUS_SETTINGS,
  ...CLUSTER_SETTINGS,
} as const;

type SettingName = keyof typeof SETTINGS;

/** parseArgs options for every setting, plus `--config FILE`. */
export const gatewayFlagOptions = {
  config: { type: "string" },
  ...Object.fromEntries(
    Object.entries(SETTINGS).map(([name, s]) => [
      name,
      s.kind === "bool"
        ? { type: "boolean" }
        : {
            type: "string",
            ...(s.kind === "targets" || s.kind === "regexes" || s.kind === "list"
              ? { multiple: true }
              : {}),
          },
    ]),
  ),
} as const satisfies Record<string, { type: "string" | "boolean"; multiple?: boolean }>;

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

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
  const configPath = typeof flags.config === "string" ? flags.config : env.STALLWATCH_CONFIG;
  let file: Record<string, unknown> = {};
  if (configPath) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(configPath, "utf8"));
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
        throw new Error("not a JSON object");
      file = parsed as Record<string, unknown>;
      const known = new Set(Object.keys(SETTINGS).map(camel));
      for (const key of Object.keys(file))
        if (!known.has(key)) problems.push(`config file ${configPath}: unknown key "${key}"`);
    } catch (err) {
      problems.push(`config file ${configPath}: ${(err as Error).message}`);
    }
  }

  /** The raw value(s) of a setting and where they came from. */
  const raw = (name: SettingName): { values: string[]; from: string } => {
    const flag = flags[name];
    if (flag !== undefined) {
      const values = (Array.isArray(flag) ? flag : [flag]).map(String);
      return { values, from: `--${name}` };
    }
    const setting = SETTINGS[name];
    const fromEnv = env[setting.env];
    if (fromEnv !== undefined && fromEnv !== "") {
      const multi =
        setting.kind === "targets" || setting.kind === "list" || setting.kind === "regexes";
      return {
        values: multi
          ? fromEnv
              .split(",")
              .map((v) => v.trim())
              .filter(Boolean)
          : [fromEnv],
        from: setting.env,
      };
    }
    const fromFile = file[camel(name)];
    if (fromFile !== undefined) {
      const values = (Array.isArray(fromFile) ? fromFile : [fromFile]).map(String);
      return { values, from: `config "${camel(name)}"` };
    }
    return { values: setting.fallback === "" ? [] : [setting.fallback], from: "default" };
  };

  const hostPort = (name: SettingName, allowZero: boolean): HostPort[] => {
    const { values, from } = raw(name);
    return values.flatMap((v) => {
      try {
        return [parseHostPort(v, { allowZero })];
      } catch (err) {
        problems.push(`${from}: ${(err as Error).message}`);
        return [];
      }
    });
  };
  const number = (name: SettingName, scale = 1): number => {
    const setting = SETTINGS[name];
    const { values, from } = raw(name);
    const value = Number(values[0]);
    const min = "min" in setting ? setting.min : 0;
    if (!Number.isFinite(value) || value < min) {
      problems.push(`${from}: expected a number >= ${min}, got "${values[0] ?? ""}"`);
      return Number(setting.fallback) * scale;
    }
    return value * scale;
  };
  const text = (name: SettingName): string | undefined => raw(name).values[0] || undefined;

  const redact = raw("redact");
  for (const pattern of redact.values) {
    try {
      new RegExp(pattern, "gi");
      const unsafe = unsafePatternReason(pattern);
      // Worker text is untrusted: a pattern that can backtrack for ever is refused.
      if (unsafe) problems.push(`${redact.from}: "${pattern}": ${unsafe}`);
    } catch (err) {
      problems.push(`${redact.from}: ${(err as Error).message}`);
    }
  }
  const agentToken = readAgentToken(text("agent-token"), text("agent-token-file"), problems);
  const trust = raw("trust-announced-address");
  const trustValue = trust.values[0] ?? "false";
  if (!/^(true|false|1|0)$/.test(trustValue))
    problems.push(`${trust.from}: expected true or false, got "${trustValue}"`);

  const edge = loadPeopleEdge(raw, problems);
  const dbPath = text("db") ?? "./.stallwatch/stallwatch.db";
  const cluster = loadClusterSettings({ raw, number, hostPort }, dbPath, problems, edge.warnings);

  const http = hostPort("http", true)[0] ?? { host: "127.0.0.1", port: 8080 };
  const grpc = hostPort("grpc", true)[0] ?? { host: "127.0.0.1", port: 8081 };
  const config: GatewayConfig = {
    http,
    grpc,
    workers: hostPort("worker", false),
    intervalMs: number("interval-ms"),
    deadlineMs: number("deadline-ms"),
    unresponsiveAfter: number("unresponsive-after"),
    probeThreads: loadProbeThreads(raw("probe-threads"), problems),
    ...loadStatusSettings(number, problems),
    retentionMs: number("retention-ms"),
    stallNoProgressMs: number("stall-no-progress-ms"),
    stallProcessingMs: number("stall-processing-ms"),
    notMovingMs: number("not-moving-ms"),
    goneRetentionMs: number("gone-retention-ms"),
    shutdownGraceMs: number("shutdown-grace-ms"),
    reconcileWaitMs: number("reconcile-wait-ms"),
    storeCheckMs: number("store-check-ms"),
    redact: redact.values,
    dbPath,
    snapshotRetentionMs: number("snapshot-retention-days", DAY),
    eventRetentionMs: number("event-retention-days", DAY),
    auditRetentionMs: number("audit-retention-days", DAY),
    operatorToken: edge.operatorToken,
    identityHeader: text("identity-header")?.toLowerCase(),
    allowedOrigins: raw("allowed-origin").values,
    webRoot: text("web-root"),
    agentToken,
    trustAnnouncedAddress: trustValue === "true" || trustValue === "1",
    maxAgents: number("max-agents"),
    readOnly: false,
    viewerToken: edge.viewerToken,
    trustedProxies: edge.trustedProxies,
    allowedHosts: edge.allowedHosts,
    snapshotsPerMinute: {
      perCaller: number("snapshots-per-minute"),
      total: number("snapshots-per-minute-total"),
    },
    warnings: edge.warnings,
    ...cluster,
  };
  for (const origin of config.allowedOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin))
      problems.push(`allowed origin "${origin}": expected scheme://host[:port]`);
  }
  if (problems.length > 0) {
    throw new UsageError(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
  }
  const exposed = !isLoopbackHost(http.host);
  config.readOnly = exposed && !config.operatorToken && !config.identityHeader;
  return config;
}

/** The agent token from the flag/env or from a file (trimmed); at least 16 characters. */
function readAgentToken(
  direct: string | undefined,
  file: string | undefined,
  problems: string[],
): string | undefined {
  if (direct !== undefined && file !== undefined) {
    problems.push("agent token: give --agent-token or --agent-token-file, not both");
    return undefined;
  }
  let token = direct;
  if (file !== undefined) {
    try {
      token = readFileSync(file, "utf8").trim();
    } catch (err) {
      problems.push(`--agent-token-file: ${(err as Error).message}`);
      return undefined;
    }
  }
  if (token !== undefined && token.length < 16)
    problems.push("agent token: use at least 16 characters");
  return token;
}
