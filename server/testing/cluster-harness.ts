import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { FleetService } from "../../gen/stallwatch/v1/fleet_pb.js";
import { sendClusterToken } from "../gateway/cluster/peer-auth.js";
import type { CliFlags } from "./cli-flags.js";
import { startTestGateway, type TestGateway } from "./test-gateway.js";

export const CLUSTER_TOKEN = "cluster-test-token-0123456789";
export const OPERATOR_TOKEN = "cluster-operator-token-01234";

export interface ClusterGateway {
  id: string;
  process: TestGateway;
  http: string;
  /** Its --peer URL: its own workers only, for tests that ask who owns what. */
  peerUrl: string;
}

/** Starts one gateway of a test cluster on ephemeral ports. */
export async function startClusterGateway(
  id: string,
  db: string,
  workers: string[],
  {
    leaseMs = 3000,
    intervalMs = 500,
    cli,
    flags = {},
    env = {},
    http,
    grpc,
  }: {
    leaseMs?: number;
    intervalMs?: number;
    cli?: string;
    /** More gateway flags (`{ "policy-file": path }`, `{ "notify-webhook": [url] }`). */
    flags?: CliFlags;
    /** More environment. */
    env?: Record<string, string>;
    /** Addresses to bind (a restart passes the ones it had). */
    http?: string;
    grpc?: string;
  } = {},
): Promise<ClusterGateway> {
  const process = await startTestGateway({
    db,
    workers,
    flags: {
      peer: "127.0.0.1:0",
      "gateway-id": id,
      "lease-ms": leaseMs,
      "cluster-interval-ms": intervalMs,
      ...flags,
    },
    env: {
      STALLWATCH_CLUSTER_TOKEN: CLUSTER_TOKEN,
      STALLWATCH_OPERATOR_TOKEN: OPERATOR_TOKEN,
      ...env,
    },
    ...(http ? { http } : {}),
    ...(grpc ? { grpc } : {}),
    cli,
  });
  return { id, process, http: process.http, peerUrl: String(process.listening.peer) };
}

/** The ids of the workers `gateway` itself probes (its --peer FleetService). */
export async function ownWorkers(gateway: ClusterGateway): Promise<string[]> {
  const fleet = createClient(
    FleetService,
    createGrpcTransport({
      baseUrl: gateway.peerUrl,
      interceptors: [sendClusterToken(CLUSTER_TOKEN)],
    }),
  );
  const { workers } = await fleet.listWorkers({}, { timeoutMs: 3000 });
  return workers.map((w) => w.id);
}
