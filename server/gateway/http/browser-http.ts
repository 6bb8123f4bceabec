import type { Clock } from "../../shared/clock/clock.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ConnectRouter, Interceptor, ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { ControlService } from "../../../gen/stallwatch/v1/control_pb.js";
import { PolicyService } from "../../../gen/stallwatch/v1/policy_pb.js";
import { ProfileService } from "../../../gen/stallwatch/v1/profile_pb.js";
import { FleetService } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { SnapshotService } from "../../../gen/stallwatch/v1/snapshot_pb.js";
import type { Logger } from "../../shared/logging/logger.js";
import type { HostPort } from "../../shared/net/host-port.js";
import { peerContextValues } from "../../shared/net/peer-address.js";
import type { GatewayMetrics } from "../metrics/gateway-metrics.js";
import type { SnapshotStore } from "../store/snapshot-store.js";
import { createHttpGuards, type HttpGuardOptions } from "./http-guards.js";
import { createSnapshotUnfurl } from "./snapshot-unfurl.js";
import { createStaticHandler } from "./static-files.js";

/** Largest request body the browser API accepts. */
const MAX_BROWSER_REQUEST_BYTES = 256 << 10;

/** The dashboard API's service implementations. */
export interface BrowserServices {
  fleet: ServiceImpl<typeof FleetService>;
  control: ServiceImpl<typeof ControlService>;
  snapshot: ServiceImpl<typeof SnapshotService>;
  profile: ServiceImpl<typeof ProfileService>;
  policy: ServiceImpl<typeof PolicyService>;
}

export interface BrowserHttpOptions {
  services: BrowserServices;
  lifecycle: Interceptor;
  readiness(): Promise<{ ready: boolean; reason: string }>;
  metrics: GatewayMetrics;
  store: SnapshotStore;
  /** Directory of the built SPA. */
  webRoot: string;
  guards: Omit<HttpGuardOptions, "log" | "metrics" | "clock">;
  clock: Clock;
  log: Logger;
}

/**
 * The browser-facing HTTP/1.1 listener: Host, Origin and identity-header
 * guards first, then the dashboard API (Connect, never gRPC), /healthz,
 * /readyz, /metrics, snapshot permalinks with their unfurl meta, and the SPA.
 */
export function createBrowserHttp(opts: BrowserHttpOptions): {
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Tells the Host guard the address the listener got (port 0 made real). */
  bound(address: HostPort): void;
} {
  const { metrics, log } = opts;
  const serveStatic = createStaticHandler(opts.webRoot);
  const unfurl = createSnapshotUnfurl({ store: opts.store, webRoot: opts.webRoot, log });
  const routes = (router: ConnectRouter) => {
    router.service(FleetService, opts.services.fleet);
    router.service(ControlService, opts.services.control);
    router.service(SnapshotService, opts.services.snapshot);
    router.service(ProfileService, opts.services.profile);
    router.service(PolicyService, opts.services.policy);
  };
  const api = connectNodeAdapter({
    routes,
    grpc: false,
    readMaxBytes: MAX_BROWSER_REQUEST_BYTES,
    // The snapshot rate limit keys anonymous callers by peer address.
    contextValues: peerContextValues,
    interceptors: [opts.lifecycle],
    fallback: (req, res) => {
      const path = req.url?.split("?")[0];
      if (path === "/healthz") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("ok\n");
        return;
      }
      if (path === "/readyz") {
        void opts.readiness().then(({ ready, reason }) => {
          res.writeHead(ready ? 200 : 503, { "content-type": "text/plain" });
          res.end(`${reason}\n`);
        });
        return;
      }
      if (path === "/metrics") {
        // A failing collector answers 500 and is logged; it must not become
        // an unhandled rejection, which ends the process.
        void Promise.resolve()
          .then(() => metrics.registry.metrics())
          .then(
            (text) => {
              res.writeHead(200, { "content-type": metrics.registry.contentType });
              res.end(text);
            },
            (err: unknown) => {
              log.error({ err: (err as Error).message }, "metrics collection failed");
              if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
              res.end("metrics collection failed\n");
            },
          );
        return;
      }
      if (!unfurl(req as IncomingMessage, res as ServerResponse))
        serveStatic(req as IncomingMessage, res as ServerResponse);
    },
  });
  const guards = createHttpGuards({ ...opts.guards, log, metrics, clock: opts.clock });
  return {
    handler: (req, res) => {
      if (guards.admit(req, res)) api(req, res);
    },
    bound: (address) => guards.bound(address),
  };
}
