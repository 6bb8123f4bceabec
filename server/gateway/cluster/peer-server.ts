import http2 from "node:http2";
import type { ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { ClusterService } from "../../../gen/stallwatch/v1/cluster_pb.js";
import { ControlService } from "../../../gen/stallwatch/v1/control_pb.js";
import { FleetService } from "../../../gen/stallwatch/v1/fleet_pb.js";
import type { ActionRunner } from "../actions/action-runner.js";
import { createControlService } from "../actions/control-service.js";
import type { Store } from "../store/store.js";
import { FORWARDED_ACTOR_HEADER, requireClusterToken } from "./peer-auth.js";
import { createShardService, type ShardParts } from "./shard-gather.js";

/** Largest request a peer may send (actions and shard requests are small). */
const MAX_PEER_REQUEST_BYTES = 1 << 20;

/**
 * What the --peer listener serves from this gateway: its own parts, never the
 * cluster-wide ones (a Gateway satisfies it).
 */
export interface PeerServed extends ShardParts {
  /** This gateway's own FleetService, unmerged. */
  localServices: { fleet: ServiceImpl<typeof FleetService> };
  actions: ActionRunner;
}

/**
 * The --peer listener (gRPC over h2c): what other gateways of the cluster
 * call. This gateway's own, unmerged FleetService; a ControlService that acts
 * for the operator a peer names in FORWARDED_ACTOR_HEADER (the peer already
 * checked the operator role); ClusterService for snapshot shards. Every call
 * needs the cluster token; nothing here is for browsers or workers.
 */
export function createPeerServer(
  gatewayId: string,
  token: string,
  served: PeerServed,
  store: Store,
): http2.Http2Server {
  const handler = connectNodeAdapter({
    routes: (router) => {
      router.service(FleetService, served.localServices.fleet);
      router.service(
        ControlService,
        createControlService(
          served.actions,
          store,
          { readOnly: false, identityHeader: FORWARDED_ACTOR_HEADER },
          served.clock,
        ),
      );
      router.service(ClusterService, createShardService(gatewayId, served));
    },
    connect: false,
    grpcWeb: false,
    readMaxBytes: MAX_PEER_REQUEST_BYTES,
    interceptors: [requireClusterToken(token)],
  });
  return http2.createServer(handler);
}
