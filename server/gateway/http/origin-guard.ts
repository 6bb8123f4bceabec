import type { IncomingMessage } from "node:http";

/**
 * Cross-site protection for the browser API: a request that carries an
 * `Origin` must come from the gateway's own origin (the Host it was sent to)
 * or one configured with `--allowed-origin`. Comparing with `Host` is sound
 * only because the host guard (host-guard.ts) has already checked `Host`
 * against the gateway's own names; on its own a rebound name would pass. Requests without `Origin`
 * (curl, server-side clients) are allowed: browsers always send it on the
 * cross-origin POSTs this guards against.
 */
export function originAllowed(req: IncomingMessage, allowedOrigins: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowedOrigins.includes(origin)) return true;
  const host = req.headers.host;
  if (!host) return false;
  return origin === `http://${host}` || origin === `https://${host}`;
}
