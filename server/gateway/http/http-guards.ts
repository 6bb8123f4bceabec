import type { Clock } from "../../shared/clock/clock.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createIdentityHeaderFilter } from "../auth/identity-header-filter.js";
import { createLogOnce } from "../../shared/logging/log-once.js";
import type { Logger } from "../../shared/logging/logger.js";
import type { GatewayMetrics } from "../metrics/gateway-metrics.js";
import type { HostPort } from "../../shared/net/host-port.js";
import { createHostGuard } from "./host-guard.js";
import { originAllowed } from "./origin-guard.js";

export interface HttpGuardOptions {
  /** `--allowed-host`: names besides the bound address and localhost. */
  allowedHosts: readonly string[];
  /** `--allowed-origin`: origins besides the gateway's own. */
  allowedOrigins: readonly string[];
  identityHeader: string | undefined;
  /** `--trusted-proxy` CIDRs: the peers whose identity header counts. */
  trustedProxies: readonly string[];
  log: Logger;
  clock: Clock;
  metrics: Pick<GatewayMetrics, "httpRequestRefused" | "identityHeaderIgnored">;
}

export interface HttpGuards {
  /**
   * Runs every check on one request, in order: anti-framing headers (on
   * every response, refusals included), `Host`, the identity header's peer,
   * `Origin`. Returns false when it has already answered with a refusal.
   */
  admit(req: IncomingMessage, res: ServerResponse): boolean;
  /** The listener's bound address (port 0 made real); refuses with 503 until known. */
  bound(address: HostPort): void;
}

/** Printable, clipped: a refused header is echoed in the answer and the log. */
const shown = (value: string | undefined) =>
  JSON.stringify((value ?? "").slice(0, 100).replace(/[^\x20-\x7e]/g, "?"));

/** The browser-facing listener's front door (DNS rebinding, CSRF, clickjacking, spoofed identity). */
export function createHttpGuards(opts: HttpGuardOptions): HttpGuards {
  const { log, metrics } = opts;
  let hostAllowed: ((host: string | undefined) => boolean) | undefined;
  const filterIdentity = createIdentityHeaderFilter({
    identityHeader: opts.identityHeader,
    trustedProxies: opts.trustedProxies,
    log,
    clock: opts.clock,
    onIgnored: () => metrics.identityHeaderIgnored(),
  });
  const firstHost = createLogOnce({ everyMs: 60_000 }, opts.clock);
  const firstOrigin = createLogOnce({ everyMs: 60_000 }, opts.clock);
  const refuse = (res: ServerResponse, status: number, message: string) => {
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
    res.end(`${message}\n`);
  };
  return {
    bound(address) {
      hostAllowed = createHostGuard(address, { allowedHosts: opts.allowedHosts });
    },
    admit(req, res) {
      // Never rendered inside another site's frame (clickjacking an action's
      // confirm button). The SPA's own CSP adds the same directive.
      res.setHeader("content-security-policy", "frame-ancestors 'none'");
      res.setHeader("x-frame-options", "DENY");
      res.setHeader("x-content-type-options", "nosniff");
      if (!hostAllowed) {
        refuse(res, 503, "starting");
        return false;
      }
      const host = req.headers.host;
      if (!hostAllowed(host)) {
        metrics.httpRequestRefused("host");
        if (firstHost(String(host).slice(0, 200))) {
          log.warn(
            { host: shown(host), peer: req.socket.remoteAddress, path: req.url?.slice(0, 200) },
            "request for a foreign Host refused (DNS rebinding?); allow a name with --allowed-host (logged once a minute per host)",
          );
        }
        refuse(
          res,
          421,
          `host ${shown(host)} is not a name of this gateway (its bound address or localhost, with its port); if it is yours, start the gateway with --allowed-host`,
        );
        return false;
      }
      filterIdentity(req);
      if (!originAllowed(req, opts.allowedOrigins)) {
        metrics.httpRequestRefused("origin");
        const origin = req.headers.origin;
        if (firstOrigin(String(origin).slice(0, 200))) {
          log.warn(
            { origin: shown(origin), path: req.url?.slice(0, 200) },
            "request from a foreign origin refused (logged once a minute per origin)",
          );
        }
        refuse(
          res,
          403,
          `origin ${shown(origin)} not allowed; if it is yours, start the gateway with --allowed-origin`,
        );
        return false;
      }
      return true;
    },
  };
}
