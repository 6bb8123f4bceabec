import { timingSafeEqual, createHash } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { Role } from "../../../gen/stallwatch/v1/control_pb.js";

/** How the gateway decides who may act. */
export interface AuthConfig {
  /** Bearer token that grants the operator role. */
  operatorToken?: string;
  /**
   * Bearer token that lets a viewer list snapshots (nothing more): for a
   * team that shares permalinks without sharing the operator token.
   */
  viewerToken?: string;
  /**
   * Header set by a trusted auth proxy (e.g. `x-forwarded-user`): its value
   * is the operator's identity. The HTTP edge deletes it from requests that
   * do not come from `--trusted-proxy` (see identity-header-filter.ts), so
   * here a present header is a trusted one.
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

function bearerToken(headers: Headers): string | undefined {
  const authorization = headers.get("authorization") ?? "";
  return /^Bearer\s+(.+)$/i.exec(authorization)?.[1]?.trim();
}

const viewerByToken: Caller = {
  role: Role.VIEWER,
  actor: "viewer (token)",
  reason: "the viewer token grants listing snapshots, not actions",
};

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
  const bearer = bearerToken(headers);
  if (config.operatorToken && bearer && tokenMatches(bearer, config.operatorToken)) {
    return { role: Role.OPERATOR, actor: "operator (token)", reason: "" };
  }
  if (config.viewerToken && bearer && tokenMatches(bearer, config.viewerToken))
    return viewerByToken;
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

/**
 * Throws unless the caller may list snapshots: an operator, or a caller with
 * the viewer token. Listing reveals every permalink id (whose 128 random bits
 * are otherwise what keeps a snapshot private), so it is not a plain read.
 * `Unauthenticated` when a token could help, `PermissionDenied` when none is
 * configured.
 */
export function requireSnapshotLister(headers: Headers, config: AuthConfig): Caller {
  const caller = identifyCaller(headers, config);
  if (caller.role === Role.OPERATOR) return caller;
  const bearer = bearerToken(headers);
  if (config.viewerToken && bearer && tokenMatches(bearer, config.viewerToken))
    return viewerByToken;
  const operatorPossible = !config.readOnly && (config.operatorToken || config.identityHeader);
  if (!operatorPossible && !config.viewerToken) {
    throw new ConnectError(
      "listing snapshots needs the operator role or the viewer token, and neither is configured (--operator-token-file, --viewer-token-file)",
      Code.PermissionDenied,
    );
  }
  throw new ConnectError(
    `listing snapshots needs the operator role or the viewer token: ${bearer ? "the token is wrong" : "no token sent"}`,
    Code.Unauthenticated,
  );
}
