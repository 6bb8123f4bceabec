import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { HostPort } from "../../shared/net/host-port.js";
import { isPostgresUrl } from "../store/connect.js";
import type { SettingReader } from "./setting-reader.js";
import { resolveToken } from "../../shared/cli/secret-flags.js";

/**
 * Settings of the gateway cluster and of static workers found by DNS,
 * spread into the gateway's settings table: flag name -> env var, kind,
 * default.
 */
export const CLUSTER_SETTINGS = {
  "cluster-token": { env: "STALLWATCH_CLUSTER_TOKEN", kind: "string", fallback: "" },
  "cluster-token-file": { env: "STALLWATCH_CLUSTER_TOKEN_FILE", kind: "string", fallback: "" },
  "gateway-id": { env: "STALLWATCH_GATEWAY_ID", kind: "string", fallback: "" },
  peer: { env: "STALLWATCH_PEER", kind: "listen", fallback: "127.0.0.1:8082" },
  "advertise-peer": { env: "STALLWATCH_ADVERTISE_PEER", kind: "string", fallback: "" },
  "lease-ms": { env: "STALLWATCH_LEASE_MS", kind: "ms", fallback: "10000", min: 300 },
  "cluster-interval-ms": {
    env: "STALLWATCH_CLUSTER_INTERVAL_MS",
    kind: "ms",
    fallback: "2000",
    min: 100,
  },
  "worker-dns": { env: "STALLWATCH_WORKER_DNS", kind: "targets", fallback: "" },
  "dns-interval-ms": {
    env: "STALLWATCH_DNS_INTERVAL_MS",
    kind: "ms",
    fallback: "30000",
    min: 1000,
  },
} as const;

type ClusterSettingName = keyof typeof CLUSTER_SETTINGS;

export interface ClusterConfig {
  /** Shared by every gateway of the cluster; authenticates gateway-to-gateway calls. */
  token: string;
  gatewayId: string;
  /** Where the gateway-to-gateway listener binds. */
  peer: HostPort;
  /** How peers reach it (`--advertise-peer`, else derived from `--peer`). */
  advertisePeer: string | undefined;
  leaseMs: number;
  intervalMs: number;
}

export interface ClusterSettings {
  /** Set when `--cluster-token` is: the gateway joins a cluster. */
  cluster: ClusterConfig | undefined;
  /** `--worker-dns NAME:PORT`: one static worker per address the name resolves to. */
  workerDns: HostPort[];
  dnsIntervalMs: number;
}

/** What loadGatewayConfig lends: raw values and its parsers (each reports to `problems`). */
type SettingReaders = Pick<SettingReader<ClusterSettingName>, "raw" | "number" | "hostPort">;

/** Reads and cross-checks the cluster's settings; every problem goes to `problems`. */
export function loadClusterSettings(
  { raw, number, hostPort }: SettingReaders,
  dbPath: string,
  problems: string[],
  warnings: string[],
): ClusterSettings {
  const workerDns = hostPort("worker-dns", false);
  const dnsIntervalMs = number("dns-interval-ms");
  const token = resolveToken(
    "cluster",
    raw("cluster-token"),
    raw("cluster-token-file"),
    problems,
    warnings,
  );
  if (token === undefined) return { cluster: undefined, workerDns, dnsIntervalMs };
  if (!isPostgresUrl(dbPath)) {
    problems.push(
      "--cluster-token needs --db postgres://…: the gateways of a cluster share one PostgreSQL",
    );
  }
  const leaseMs = number("lease-ms");
  const intervalMs = number("cluster-interval-ms");
  if (intervalMs * 2 > leaseMs) {
    problems.push(
      `--cluster-interval-ms (${intervalMs}) must be at most half of --lease-ms (${leaseMs}): a lease must survive a late renewal`,
    );
  }
  const gatewayId =
    raw("gateway-id").values[0] || `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  if (!/^[\w.:-]{1,100}$/.test(gatewayId))
    problems.push(
      `--gateway-id: 1-100 letters, digits, _ . : or - (got "${gatewayId.slice(0, 100)}")`,
    );
  const advertise = raw("advertise-peer").values[0];
  if (advertise !== undefined && !/^https?:\/\/[^/\s]+$/.test(advertise))
    problems.push(`--advertise-peer "${advertise}": expected http://host:port`);
  const peer = hostPort("peer", true)[0] ?? { host: "127.0.0.1", port: 8082 };
  return {
    cluster: { token, gatewayId, peer, advertisePeer: advertise, leaseMs, intervalMs },
    workerDns,
    dnsIntervalMs,
  };
}
