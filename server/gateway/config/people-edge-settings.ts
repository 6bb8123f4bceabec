import { parseCidr } from "../auth/cidr.js";
import { parseAllowedHost } from "../http/host-guard.js";
import { resolveToken } from "../../shared/cli/secret-flags.js";
import { textSettings, type SettingReader } from "./setting-reader.js";

/**
 * Settings of the people-facing edge (tokens, identity header and trusted
 * proxies, Host names and origins, the SPA, snapshot budget), spread into the
 * gateway's settings table: flag name -> env var, kind, default.
 */
export const PEOPLE_EDGE_SETTINGS = {
  ...textSettings(
    "operator-token",
    "operator-token-file",
    "viewer-token",
    "viewer-token-file",
    "identity-header",
    "web-root",
  ),
  "trusted-proxy": { env: "STALLWATCH_TRUSTED_PROXIES", kind: "list" },
  "allowed-host": { env: "STALLWATCH_ALLOWED_HOSTS", kind: "list" },
  "allowed-origin": { env: "STALLWATCH_ALLOWED_ORIGINS", kind: "list" },
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

type EdgeSettingName = keyof typeof PEOPLE_EDGE_SETTINGS;

export interface PeopleEdgeConfig {
  operatorToken: string | undefined;
  viewerToken: string | undefined;
  /** The trusted auth proxy's user header, lower-case. */
  identityHeader: string | undefined;
  /** `--trusted-proxy` CIDRs, validated. */
  trustedProxies: string[];
  /** `--allowed-host` entries, canonical. */
  allowedHosts: string[];
  /** `--allowed-origin` URLs (scheme://host[:port]). */
  allowedOrigins: string[];
  /** The built dashboard to serve; undefined = the one beside the gateway. */
  webRoot: string | undefined;
  snapshotsPerMinute: { perCaller: number; total: number };
  /** Not errors, but worth a line at start (e.g. a token visible in `ps`). */
  warnings: string[];
}

/**
 * Reads and cross-checks the edge's settings; every problem goes to
 * `problems` (reported together with the rest of the configuration's).
 */
export function loadPeopleEdge(
  read: Pick<SettingReader<EdgeSettingName>, "raw" | "number" | "text">,
  problems: string[],
): PeopleEdgeConfig {
  const { raw } = read;
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
  const allowedOrigins = raw("allowed-origin").values;
  for (const origin of allowedOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin))
      problems.push(`allowed origin "${origin}": expected scheme://host[:port]`);
  }
  return {
    operatorToken,
    viewerToken,
    identityHeader: read.text("identity-header")?.toLowerCase(),
    trustedProxies,
    allowedHosts,
    allowedOrigins,
    webRoot: read.text("web-root"),
    snapshotsPerMinute: {
      perCaller: read.number("snapshots-per-minute"),
      total: read.number("snapshots-per-minute-total"),
    },
    warnings,
  };
}
