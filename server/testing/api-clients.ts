import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ControlService } from "../../gen/stallwatch/v1/control_pb.js";
import { FleetService } from "../../gen/stallwatch/v1/fleet_pb.js";
import { PolicyService } from "../../gen/stallwatch/v1/policy_pb.js";
import { ProfileService } from "../../gen/stallwatch/v1/profile_pb.js";
import { SnapshotService } from "../../gen/stallwatch/v1/snapshot_pb.js";

/**
 * The dashboard API as the browser calls it (Connect over HTTP/1.1), with the
 * operator token when one is given.
 */
export function apiClients(http: string, token?: string) {
  const transport = createConnectTransport({
    baseUrl: `http://${http}`,
    httpVersion: "1.1",
    interceptors: token
      ? [
          (next) => (req) => {
            req.header.set("authorization", `Bearer ${token}`);
            return next(req);
          },
        ]
      : [],
  });
  return {
    fleet: createClient(FleetService, transport),
    control: createClient(ControlService, transport),
    snapshots: createClient(SnapshotService, transport),
    profiles: createClient(ProfileService, transport),
    policies: createClient(PolicyService, transport),
  };
}
