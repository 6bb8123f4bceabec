import type { Clock } from "../../shared/clock/clock.js";
import type { IncomingMessage } from "node:http";
import type { Logger } from "../../shared/logging/logger.js";
import { createLogOnce } from "../../shared/logging/log-once.js";
import { createCidrMatcher } from "./cidr.js";

export interface IdentityHeaderFilterOptions {
  /** `--identity-header`, lower case; undefined when not configured. */
  identityHeader: string | undefined;
  /** `--trusted-proxy` CIDRs: the only peers whose identity header counts. */
  trustedProxies: readonly string[];
  log: Logger;
  clock: Clock;
  /** Called for every request whose identity header was dropped (metrics). */
  onIgnored?: () => void;
}

/**
 * Enforces "the identity header is honoured only from trusted proxies" at
 * the HTTP edge: from any other peer the header is deleted before the API
 * sees it, so `identifyCaller` (which reads headers only) cannot be fooled by
 * a client that sets the header itself. Logged once per peer address.
 */
export function createIdentityHeaderFilter(
  opts: IdentityHeaderFilterOptions,
): (req: IncomingMessage) => void {
  const { identityHeader, log } = opts;
  if (!identityHeader) return () => undefined;
  const trusted = createCidrMatcher(opts.trustedProxies);
  const firstTime = createLogOnce({}, opts.clock);
  return (req) => {
    if (req.headers[identityHeader] === undefined) return;
    const peer = req.socket.remoteAddress;
    if (trusted(peer)) return;
    // The name is configuration, not request input; connect-node reads req.headers.
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete
    delete req.headers[identityHeader];
    opts.onIgnored?.();
    if (firstTime(peer ?? "unknown")) {
      log.warn(
        { peer, header: identityHeader, trustedProxies: opts.trustedProxies },
        "identity header from a peer outside --trusted-proxy ignored (logged once per peer)",
      );
    }
  };
}
