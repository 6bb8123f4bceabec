import { createHash, timingSafeEqual } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/**
 * Header a gateway sets when it forwards an operator's action to the owner:
 * the operator's identity as the first gateway established it. Honoured only
 * on the --peer listener, after the cluster token checked out.
 */
export const FORWARDED_ACTOR_HEADER = "x-stallwatch-cluster-actor";

const digest = (text: string) => createHash("sha256").update(text).digest();

/** Refuses every peer call without the cluster token (compared in constant time). */
export function requireClusterToken(token: string): Interceptor {
  const expected = digest(token);
  return (next) => async (req) => {
    const given = /^Bearer\s+(.+)$/i.exec(req.header.get("authorization") ?? "")?.[1]?.trim();
    if (!given || !timingSafeEqual(digest(given), expected)) {
      throw new ConnectError("a gateway of this cluster is expected here", Code.Unauthenticated);
    }
    return next(req);
  };
}

/** Adds the cluster token to every call to a peer. */
export function sendClusterToken(token: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}
