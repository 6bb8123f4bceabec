import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { FleetService } from "../../gen/stallwatch/v1/fleet_pb.js";
import { sendClusterToken } from "../gateway/cluster/peer-auth.js";
import { startStallwatch, type StallwatchProcess } from "./spawn-stallwatch.js";

export const CLUSTER_TOKEN = "cluster-test-token-0123456789";
export const OPERATOR_TOKEN = "cluster-operator-token-01234";

export interface ClusterGateway {
  id: string;
  process: StallwatchProcess;
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
  }: { leaseMs?: number; intervalMs?: number; cli?: string } = {},
): Promise<ClusterGateway> {
  const process = await startStallwatch(
    [
      "gateway",
      "--http",
      "127.0.0.1:0",
      "--grpc",
      "127.0.0.1:0",
      "--peer",
      "127.0.0.1:0",
      "--db",
      db,
      "--gateway-id",
      id,
      "--lease-ms",
      String(leaseMs),
      "--cluster-interval-ms",
      String(intervalMs),
      ...workers.flatMap((w) => ["--worker", w]),
    ],
    {
      env: { STALLWATCH_CLUSTER_TOKEN: CLUSTER_TOKEN, STALLWATCH_OPERATOR_TOKEN: OPERATOR_TOKEN },
      ...(cli ? { cli } : {}),
    },
  );
  return {
    id,
    process,
    http: String(process.listening.http),
    peerUrl: String(process.listening.peer),
  };
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
