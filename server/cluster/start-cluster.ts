import type { Logger } from "../logging/logger.js";
import { formatHostPort } from "../net/host-port.js";
import type { Store } from "../store/store.js";
import type { ClusterConfig } from "../gateway/cluster-settings.js";
import { joinCluster, type ClusterNode } from "./cluster-node.js";
import type { StaticAssignment } from "./static-workers.js";
import type { WorkerOwnership } from "./worker-ownership.js";

export interface ClusterRuntime {
  node: ClusterNode;
  /** Leaves the cluster (peers take over at once); idempotent. */
  leave(): Promise<void>;
}

/** Joins the cluster once the gateway listens (its URLs go into its membership row). */
export async function startCluster(opts: {
  config: ClusterConfig;
  store: Store;
  staticWorkers: StaticAssignment;
  ownership: WorkerOwnership;
  httpUrl: string;
  log: Logger;
}): Promise<ClusterRuntime> {
  const { config } = opts;
  const peerUrl = config.advertisePeer ?? `http://${formatHostPort(config.peer)}`;
  const node = await joinCluster({
    store: opts.store,
    self: { gatewayId: config.gatewayId, peerUrl, httpUrl: opts.httpUrl },
    leaseMs: config.leaseMs,
    intervalMs: config.intervalMs,
    staticWorkers: opts.staticWorkers,
    ownership: opts.ownership,
    log: opts.log.child({ cluster: config.gatewayId }),
  });
  return { node, leave: () => node.leave() };
}
