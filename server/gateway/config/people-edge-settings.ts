import { parseCidr } from "../auth/cidr.js";
import { parseAllowedHost } from "../http/host-guard.js";
import type { RawSetting } from "../../shared/cli/flags.js";
import { resolveToken } from "../../shared/cli/secret-flags.js";

/**
 * Settings of the people-facing edge (tokens from files, trusted proxies,
 * Host names, snapshot budget), spread into the gateway's settings table:
 * flag name -> env var, kind, default.
 */
export const PEOPLE_EDGE_SETTINGS = {
  "operator-token-file": { env: "STALLWATCH_OPERATOR_TOKEN_FILE", kind: "string", fallback: "" },
  "viewer-token": { env: "STALLWATCH_VIEWER_TOKEN", kind: "string", fallback: "" },
  "viewer-token-file": { env: "STALLWATCH_VIEWER_TOKEN_FILE", kind: "string", fallback: "" },
  "trusted-proxy": { env: "STALLWATCH_TRUSTED_PROXIES", kind: "list", fallback: "" },
  "allowed-host": { env: "STALLWATCH_ALLOWED_HOSTS", kind: "list", fallback: "" },
  "snapshots-per-minute": {
    env: "STALLWATCH_SNAPSHOTS_PER_MINUTE",
    kind: "count",
    fallback: "10",
    min: 1,
  },
  "snapshots-per-minute-total": {
    env: "STALLWATCH_SNAPSHOTS_PER_MINUTE_TOTAL",
    kind: "count",
    fallback: "60",
    min: 1,
  },
} as const;

type EdgeSettingName = keyof typeof PEOPLE_EDGE_SETTINGS | "operator-token" | "identity-header";

export interface PeopleEdgeConfig {
  operatorToken: string | undefined;
  viewerToken: string | undefined;
  /** `--trusted-proxy` CIDRs, validated. */
  trustedProxies: string[];
  /** `--allowed-host` entries, canonical. */
  allowedHosts: string[];
  /** Not errors, but worth a line at start (e.g. a token visible in `ps`). */
  warnings: string[];
}

/**
 * Reads and cross-checks the edge's settings; every problem goes to
 * `problems` (reported together with the rest of the configuration's).
 */
export function loadPeopleEdge(
  raw: (name: EdgeSettingName) => RawSetting,
  problems: string[],
): PeopleEdgeConfig {
  const warnings: string[] = [];
  const token = (label: "operator" | "viewer") =>
    resolveToken(label, raw(`${label}-token`), raw(`${label}-token-file`), problems, warnings);
  const operatorToken = token("operator");
  const viewerToken = token("viewer");
  if (operatorToken !== undefined && operatorToken === viewerToken)
    problems.push("the viewer token must differ from the operator token");

  const listed = <T>(name: EdgeSettingName, parse: (text: string) => T): T[] => {
    const { values, from } = raw(name);
    return values.flatMap((v) => {
      try {
        return [parse(v)];
      } catch (err) {
        problems.push(`${from}: ${(err as Error).message}`);
        return [];
      }
    });
  };
  const trustedProxies = listed("trusted-proxy", (v) => (parseCidr(v), v.trim()));
  const allowedHosts = listed("allowed-host", parseAllowedHost);
  const identityHeader = raw("identity-header").values[0];
  if (identityHeader && raw("trusted-proxy").values.length === 0) {
    problems.push(
      "--identity-header needs --trusted-proxy CIDR (the auth proxy's address): the header is honoured only from there",
    );
  }
  return { operatorToken, viewerToken, trustedProxies, allowedHosts, warnings };
}
