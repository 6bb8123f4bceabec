import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadGatewayConfig } from "./gateway-config.js";

describe("loadGatewayConfig", () => {
  it("has loopback defaults", () => {
    const c = loadGatewayConfig({}, {});
    expect(c.http).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(c.grpc).toEqual({ host: "127.0.0.1", port: 8081 });
    expect(c.intervalMs).toBe(1000);
    expect(c.snapshotRetentionMs).toBe(30 * 86_400_000);
    expect(c.dbPath).toBe("./.stallwatch/stallwatch.db");
    expect(c.readOnly).toBe(false);
  });

  it("takes flags over env over file", () => {
    const dir = mkdtempSync(join(tmpdir(), "swcfg-"));
    const file = join(dir, "gw.json");
    writeFileSync(
      file,
      JSON.stringify({ intervalMs: 3000, deadlineMs: 700, worker: ["127.0.0.1:9"] }),
    );
    const c = loadGatewayConfig(
      { config: file, "interval-ms": "2000" },
      { STALLWATCH_DEADLINE_MS: "800" },
    );
    expect(c.intervalMs).toBe(2000);
    expect(c.deadlineMs).toBe(800);
    expect(c.workers).toEqual([{ host: "127.0.0.1", port: 9 }]);
  });

  it("takes the status cadence and Beam caps, and refuses a watched cadence slower than the base one", () => {
    const defaults = loadGatewayConfig({}, {});
    expect(defaults).toMatchObject({
      statusIntervalMs: 10_000,
      watchedStatusIntervalMs: 2_000,
      maxDumpsPerSecond: 500,
      beamStatusDeadlineMs: 3_000,
      maxBeamStreams: 10_000,
      maxBeamStreamsPerConnection: 4,
    });
    const c = loadGatewayConfig(
      { "status-interval-ms": "30000", "max-beam-streams-per-connection": "2" },
      { STALLWATCH_WATCHED_STATUS_INTERVAL_MS: "1000" },
    );
    expect(c).toMatchObject({
      statusIntervalMs: 30_000,
      watchedStatusIntervalMs: 1_000,
      maxBeamStreamsPerConnection: 2,
    });
    expect(() =>
      loadGatewayConfig({ "status-interval-ms": "5000", "watched-status-interval-ms": "8000" }, {}),
    ).toThrow(/--watched-status-interval-ms \(8000\) must not be longer than --status-interval-ms/);
  });

  it("reads comma-separated lists from the environment", () => {
    const c = loadGatewayConfig({}, { STALLWATCH_WORKERS: "127.0.0.1:1, 127.0.0.1:2" });
    expect(c.workers.map((w) => w.port)).toEqual([1, 2]);
  });

  it("reports every problem at once", () => {
    let message = "";
    try {
      loadGatewayConfig(
        {
          worker: ["nope"],
          "interval-ms": "-1",
          redact: ["("],
          "operator-token": "short",
          "trusted-proxy": ["10.0.0.0/40"],
          "allowed-host": ["http://x"],
        },
        {},
      );
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('--worker: "nope" is not HOST:PORT');
    expect(message).toContain("--interval-ms: expected a number >= 10");
    expect(message).toContain("--redact: Invalid regular expression");
    expect(message).toContain(
      "--operator-token: the operator token must be at least 16 characters (got 5)",
    );
    expect(message).toContain('--trusted-proxy: "10.0.0.0/40": the prefix length must be 0-32');
    expect(message).toContain('--allowed-host: "http://x" is not a host name');
  });

  it("reads the agent edge settings and refuses short tokens and unsafe redaction patterns", () => {
    const c = loadGatewayConfig(
      { "trust-announced-address": true, "max-agents": "50", "agent-pending-memory-mib": "8" },
      {
        STALLWATCH_AGENT_TOKEN: "0123456789abcdef",
        STALLWATCH_MAX_WORKER_CONNECTIONS_PER_ADDRESS: "5",
      },
    );
    expect(c.maxWorkerConnectionsPerAddress).toBe(5);
    expect(c.agentPendingMemoryMib).toBe(8);
    expect(c.agentAdmissionsPerTurn).toBe(32);
    expect(() => loadGatewayConfig({ "agent-admissions-per-turn": "0" }, {})).toThrow(
      /--agent-admissions-per-turn/,
    );
    expect(c.agentToken).toBe("0123456789abcdef");
    expect(c.trustAnnouncedAddress).toBe(true);
    expect(c.maxAgents).toBe(50);
    expect(loadGatewayConfig({}, {}).agentToken).toBeUndefined();
    expect(() => loadGatewayConfig({ "agent-token": "short" }, {})).toThrow(/at least 16/);
    expect(() => loadGatewayConfig({ redact: ["(a+)+"] }, {})).toThrow(/nested quantifiers/);
  });

  it("rejects unknown keys and bad JSON in the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "swcfg-"));
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{ nope");
    expect(() => loadGatewayConfig({ config: bad }, {})).toThrow(/config file .*bad\.json/);
    const unknown = join(dir, "unknown.json");
    writeFileSync(unknown, JSON.stringify({ intervalSecs: 1 }));
    expect(() => loadGatewayConfig({ config: unknown }, {})).toThrow(/unknown key "intervalSecs"/);
  });

  it("is read-only when exposed beyond loopback without operator auth", () => {
    expect(loadGatewayConfig({ http: "0.0.0.0:8080" }, {}).readOnly).toBe(true);
    expect(
      loadGatewayConfig({ http: "0.0.0.0:8080", "operator-token": "0123456789abcdef" }, {})
        .readOnly,
    ).toBe(false);
  });
});

describe("people-facing security settings", () => {
  const dir = mkdtempSync(join(tmpdir(), "swcfg-"));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it("reads tokens from files (trailing newline trimmed) without a warning", () => {
    const c = loadGatewayConfig(
      {
        "operator-token-file": file("op", "operator-token-from-file\n"),
        "viewer-token-file": file("view", "viewer-token-from-file\n"),
      },
      {},
    );
    expect(c.operatorToken).toBe("operator-token-from-file");
    expect(c.viewerToken).toBe("viewer-token-from-file");
    expect(c.warnings).toEqual([]);
  });

  it("warns when a token is a command-line flag, not when it comes from the environment", () => {
    const flagged = loadGatewayConfig({ "operator-token": "operator-token-on-argv" }, {});
    expect(flagged.warnings.join()).toMatch(
      /--operator-token is visible to every local user in `ps`/,
    );
    const fromEnv = loadGatewayConfig({}, { STALLWATCH_OPERATOR_TOKEN: "operator-token-in-env" });
    expect(fromEnv.operatorToken).toBe("operator-token-in-env");
    expect(fromEnv.warnings).toEqual([]);
  });

  it("refuses short, unreadable, doubled or shared tokens", () => {
    const problems = (flags: Record<string, string>) => {
      try {
        loadGatewayConfig(flags, {});
        return "";
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(problems({ "viewer-token": "fifteen-chars-x" })).toMatch(
      /viewer token must be at least 16 characters \(got 15\)/,
    );
    expect(problems({ "operator-token-file": join(dir, "missing") })).toMatch(
      /cannot read the operator token \(ENOENT\)/,
    );
    expect(
      problems({
        "operator-token": "a".repeat(16),
        "operator-token-file": file("x", "b".repeat(16)),
      }),
    ).toMatch(/give --operator-token or --operator-token-file, not both/);
    expect(
      problems({ "operator-token": "same-token-twice!", "viewer-token": "same-token-twice!" }),
    ).toMatch(/viewer token must differ/);
    expect(problems({ "operator-token": "sixteen chars ok" })).toMatch(
      /printable ASCII without spaces/,
    );
  });

  it("needs --trusted-proxy with --identity-header, and takes IPv4 and IPv6 ranges", () => {
    expect(() => loadGatewayConfig({ "identity-header": "X-Forwarded-User" }, {})).toThrow(
      /--identity-header needs --trusted-proxy/,
    );
    const c = loadGatewayConfig(
      { "identity-header": "X-Forwarded-User", "trusted-proxy": ["10.0.0.5", "fd00::/8"] },
      {},
    );
    expect(c.identityHeader).toBe("x-forwarded-user");
    expect(c.trustedProxies).toEqual(["10.0.0.5", "fd00::/8"]);
  });

  it("has snapshot budgets and allowed hosts, from flags or env", () => {
    const c = loadGatewayConfig(
      { "allowed-host": ["Stallwatch.example.com"] },
      { STALLWATCH_SNAPSHOTS_PER_MINUTE: "3" },
    );
    expect(c.allowedHosts).toEqual(["stallwatch.example.com"]);
    expect(c.snapshotsPerMinute).toEqual({ perCaller: 3, total: 60 });
    expect(() => loadGatewayConfig({ "snapshots-per-minute": "0" }, {})).toThrow(
      /--snapshots-per-minute: expected a number >= 1/,
    );
  });

  it("reads --policy-file from a flag, the environment or the config file, and refuses a bad one naming the field", () => {
    const dir = mkdtempSync(join(tmpdir(), "swcfg-"));
    const good = join(dir, "p.yaml");
    writeFileSync(
      good,
      `- { name: hung, action: cancel-session, match: { in_state_for: 10m, selector: "worker_id=etl-*" } }`,
    );
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, `- { name: hung, action: cancel-session, match: { in_state_for: 10m } }`);
    expect(loadGatewayConfig({ "policy-file": good }, {}).policies.map((p) => p.name)).toEqual([
      "hung",
    ]);
    expect(loadGatewayConfig({}, { STALLWATCH_POLICY_FILE: good }).policySource).toBe(
      `STALLWATCH_POLICY_FILE ${good}`,
    );
    const config = join(dir, "gw.json");
    writeFileSync(config, JSON.stringify({ policyFile: good }));
    expect(loadGatewayConfig({ config }, {}).policies).toHaveLength(1);
    expect(loadGatewayConfig({}, {}).policies).toEqual([]);
    expect(() => loadGatewayConfig({ "policy-file": bad }, {})).toThrow(
      /--policy-file .*bad\.yaml: policies\[0\]\.match\.selector: missing: the policy would match every worker/,
    );
    expect(() => loadGatewayConfig({ "policy-file": join(dir, "none.yaml") }, {})).toThrow(
      /--policy-file .*none\.yaml: ENOENT/,
    );
  });
});
