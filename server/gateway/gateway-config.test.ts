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

  it("reads comma-separated lists from the environment", () => {
    const c = loadGatewayConfig({}, { STALLWATCH_WORKERS: "127.0.0.1:1, 127.0.0.1:2" });
    expect(c.workers.map((w) => w.port)).toEqual([1, 2]);
  });

  it("reports every problem at once", () => {
    let message = "";
    try {
      loadGatewayConfig(
        { worker: ["nope"], "interval-ms": "-1", redact: ["("], "operator-token": "short" },
        {},
      );
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('--worker: "nope" is not HOST:PORT');
    expect(message).toContain("--interval-ms: expected a number >= 10");
    expect(message).toContain("--redact: Invalid regular expression");
    expect(message).toContain("operator token: use at least 8 characters");
  });

  it("reads the agent edge settings and refuses short tokens and unsafe redaction patterns", () => {
    const c = loadGatewayConfig(
      { "trust-announced-address": true, "max-agents": "50" },
      { STALLWATCH_AGENT_TOKEN: "0123456789abcdef" },
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
      loadGatewayConfig({ http: "0.0.0.0:8080", "operator-token": "0123456789" }, {}).readOnly,
    ).toBe(false);
  });
});
