import { describe, expect, it } from "vitest";
import { loadGatewayConfig } from "./gateway-config.js";

const PG = "postgres://stallwatch@127.0.0.1:5432/stallwatch";
const TOKEN = "a-cluster-token-0123456789";

describe("cluster settings", () => {
  it("leaves a gateway alone without a cluster token, and reads --worker-dns", () => {
    const c = loadGatewayConfig({ "worker-dns": ["workers.svc:7070"] }, {});
    expect(c.cluster).toBeUndefined();
    expect(c.workerDns).toEqual([{ host: "workers.svc", port: 7070 }]);
    expect(c.dnsIntervalMs).toBe(30_000);
  });

  it("joins a cluster with a token and a PostgreSQL database", () => {
    const c = loadGatewayConfig(
      { db: PG, "gateway-id": "gw-1", peer: "0.0.0.0:9090", "lease-ms": "6000" },
      { STALLWATCH_CLUSTER_TOKEN: TOKEN },
    );
    expect(c.cluster).toMatchObject({
      token: TOKEN,
      gatewayId: "gw-1",
      peer: { host: "0.0.0.0", port: 9090 },
      leaseMs: 6000,
      intervalMs: 2000,
    });
  });

  it("names every problem: SQLite, a short token, an interval over half the lease, a bad id", () => {
    expect(() =>
      loadGatewayConfig({ "cluster-token": "short", "gateway-id": "no spaces" }, {}),
    ).toThrow(/cluster token must be at least 16 characters/);
    const run = () =>
      loadGatewayConfig(
        {
          "cluster-token": TOKEN,
          "lease-ms": "1000",
          "cluster-interval-ms": "800",
          "gateway-id": "no spaces",
          "advertise-peer": "ftp://x",
        },
        {},
      );
    expect(run).toThrow(/--cluster-token needs --db postgres/);
    expect(run).toThrow(/must be at most half of --lease-ms/);
    expect(run).toThrow(/--gateway-id: 1-100 letters/);
    expect(run).toThrow(/--advertise-peer "ftp:\/\/x": expected http:\/\/host:port/);
  });
});
