import { timingSafeEqual, createHash } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { Role } from "../../gen/stallwatch/v1/control_pb.js";

/** How the gateway decides who may act. */
export interface AuthConfig {
  /** Bearer token that grants the operator role. */
  operatorToken?: string;
  /**
   * Header set by a trusted auth proxy (e.g. `x-forwarded-user`): its value
   * is the operator's identity. Only configure this behind such a proxy.
   */
  identityHeader?: string;
  /**
   * Forces read-only: set when the gateway listens beyond loopback without
   * any operator auth configured.
   */
  readOnly: boolean;
}

export interface Caller {
  role: Role;
  actor: string;
  /** Why the caller is a viewer (shown in the UI next to disabled actions). */
  reason: string;
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** Compares in constant time (over equal-length digests) to not leak the token. */
function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** Works out the caller's role from request headers. Never throws. */
export function identifyCaller(headers: Headers, config: AuthConfig): Caller {
  if (config.readOnly) {
    return {
      role: Role.VIEWER,
      actor: "anonymous",
      reason:
        "this gateway is read-only: it listens beyond loopback without operator auth configured",
    };
  }
  if (config.identityHeader) {
    const identity = headers.get(config.identityHeader)?.trim();
    if (identity) return { role: Role.OPERATOR, actor: identity.slice(0, 200), reason: "" };
  }
  const authorization = headers.get("authorization") ?? "";
  const bearer = /^Bearer\s+(.+)$/i.exec(authorization)?.[1]?.trim();
  if (config.operatorToken && bearer && tokenMatches(bearer, config.operatorToken)) {
    return { role: Role.OPERATOR, actor: "operator (token)", reason: "" };
  }
  if (!config.operatorToken && !config.identityHeader) {
    return {
      role: Role.VIEWER,
      actor: "anonymous",
      reason: "no operator auth is configured on the gateway (--operator-token)",
    };
  }
  return {
    role: Role.VIEWER,
    actor: "anonymous",
    reason: bearer ? "the operator token is wrong" : "no operator token sent",
  };
}

/**
 * Throws unless the caller is an operator: `Unauthenticated` when no or a
 * wrong token was sent, `PermissionDenied` when the gateway is read-only.
 */
export function requireOperator(headers: Headers, config: AuthConfig): Caller {
  const caller = identifyCaller(headers, config);
  if (caller.role === Role.OPERATOR) return caller;
  const code =
    config.readOnly || (!config.operatorToken && !config.identityHeader)
      ? Code.PermissionDenied
      : Code.Unauthenticated;
  throw new ConnectError(`operator role required: ${caller.reason}`, code);
}
