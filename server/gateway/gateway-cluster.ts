import type { Clock } from "../shared/clock/clock.js";
import type http2 from "node:http2";
import type { Logger } from "../shared/logging/logger.js";
import { formatHostPort } from "../shared/net/host-port.js";
import { closeServer, listen } from "../shared/net/listen.js";
import type { Store } from "./store/store.js";
import type { ClusterConfig } from "./config/cluster-settings.js";
import type { Gateway } from "./gateway.js";
import type { BrowserServices } from "./http/browser-http.js";
import { ClusterFront } from "./cluster/cluster-front.js";
import { createClusterControlService } from "./cluster/cluster-control-service.js";
import { createClusterFleetService } from "./cluster/cluster-fleet-service.js";
import { joinCluster, type ClusterNode } from "./cluster/cluster-node.js";
import { createPeerServer } from "./cluster/peer-server.js";
import { createShardGatherer } from "./cluster/shard-gather.js";
import { createClusterOwnership } from "./cluster/worker-ownership.js";
import type { ClusterOwnership } from "./fleet/ownership.js";
import type { AuthConfig } from "./auth/caller.js";
import type { FleetReader } from "./fleet/fleet-reader.js";

export interface ClusterRuntime {
  node: ClusterNode;
  /** Where the --peer listener bound. */
  peerUrl: string;
  /** Leaves the cluster (peers take over at once) and closes the peer listener; idempotent. */
  leave(): Promise<void>;
}

/**
 * What createGateway needs before the gateway exists: the wrappers that make
 * its dashboard API serve the whole fleet, and the snapshot gatherer.
 */
function clusterGatewayOptions(
  front: ClusterFront,
  store: Store,
  auth: AuthConfig,
  log: Logger,
  clock: Clock,
) {
  return {
    wrapServices: (local: BrowserServices, parts: { fleet: FleetReader }): BrowserServices => ({
      fleet: createClusterFleetService(local.fleet, {
        fleet: parts.fleet,
        front,
        store,
        log,
        clock,
      }),
      control: createClusterControlService(local.control, {
        fleet: parts.fleet,
        front,
        store,
        auth,
        log,
      }),
      snapshot: local.snapshot,
      // Profiles are served by the gateway the worker dialled (not routed yet).
      profile: local.profile,
      // Policies are read from the shared store: any gateway answers for all.
      policy: local.policy,
    }),
    gatherShards: createShardGatherer(front, log),
  };
}

/** Binds --peer, joins the cluster, and follows the peers. */
async function startCluster(opts: {
  config: ClusterConfig;
  store: Store;
  gateway: Gateway;
  front: ClusterFront;
  ownership: ClusterOwnership;
  httpUrl: string;
  log: Logger;
}): Promise<ClusterRuntime> {
  const { config, front } = opts;
  const log = opts.log.child({ cluster: config.gatewayId });
  const server: http2.Http2Server = createPeerServer(
    config.gatewayId,
    config.token,
    opts.gateway,
    opts.store,
  );
  const bound = await listen(server, config.peer, "peer");
  const peerUrl = config.advertisePeer ?? `http://${formatHostPort(bound)}`;
  front.connect(config.token, config.gatewayId);
  const { clusterMetrics } = opts.gateway;
  let node: ClusterNode;
  try {
    node = await joinCluster({
      store: opts.store,
      self: { gatewayId: config.gatewayId, peerUrl, httpUrl: opts.httpUrl },
      leaseMs: config.leaseMs,
      intervalMs: config.intervalMs,
      staticWorkers: opts.gateway.staticWorkers,
      ownership: opts.ownership,
      clock: opts.gateway.clock,
      log,
      onMembers: (members) => {
        front.setMembers(members);
        clusterMetrics.membersSeen(members.map((m) => m.gatewayId));
      },
    });
  } catch (err) {
    front.close();
    await closeServer(server, 1000);
    throw err;
  }
  front.setMembers(node.members());
  clusterMetrics.membersSeen(node.members().map((m) => m.gatewayId));
  let left: Promise<void> | undefined;
  return {
    node,
    peerUrl,
    leave() {
      left ??= (async () => {
        await node.leave();
        front.close();
        await closeServer(server, 1000);
      })();
      return left;
    },
  };
}

/**
 * The cluster's part of a gateway's start, in two halves: options for
 * createGateway now, and `start` once the gateway listens. Without a cluster
 * configured, both are no-ops.
 */
export function prepareCluster(
  config: ClusterConfig | undefined,
  store: Store,
  auth: AuthConfig,
  log: Logger,
  clock: Clock,
) {
  if (!config) {
    return {
      gatewayOptions: {},
      start: (): Promise<ClusterRuntime | undefined> => Promise.resolve(undefined),
    };
  }
  const ownership = createClusterOwnership(store, config.gatewayId, clock);
  const front = new ClusterFront(log, clock);
  return {
    gatewayOptions: { ownership, ...clusterGatewayOptions(front, store, auth, log, clock) },
    start: (gateway: Gateway, httpUrl: string): Promise<ClusterRuntime | undefined> =>
      startCluster({ config, store, gateway, front, ownership, httpUrl, log }),
  };
}
