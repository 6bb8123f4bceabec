import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { ClusterMetrics } from "./cluster-metrics.js";
import { HealthMetrics } from "./health-metrics.js";

describe("HealthMetrics", () => {
  it("reads readiness, store failures and the dump budget at scrape time", async () => {
    const registry = new Registry();
    let ready = true;
    let failures = 0;
    const health = new HealthMetrics(registry, {
      readiness: () => Promise.resolve({ ready }),
      storeFailures: () => failures,
      dumpBudget: () => ({ perSecond: 500, demandPerSecond: 625, maxPerSecond: 500 }),
    });
    health.publicUrl("https://sw.example/team/");
    let text = await registry.metrics();
    expect(text).toMatch(/^stallwatch_ready 1$/m);
    expect(text).toMatch(/^stallwatch_store_errors_total 0$/m);
    expect(text).toMatch(/^stallwatch_dump_demand_per_second 625$/m);
    expect(text).toMatch(/^stallwatch_dump_budget_per_second 500$/m);
    expect(text).toContain('stallwatch_gateway_info{public_url="https://sw.example/team"} 1');
    ready = false;
    failures = 3;
    text = await registry.metrics();
    expect(text).toMatch(/^stallwatch_ready 0$/m);
    expect(text).toMatch(/^stallwatch_store_errors_total 3$/m);
  });

  it("reads a readiness check that throws as not ready", async () => {
    const registry = new Registry();
    new HealthMetrics(registry, {
      readiness: () => Promise.reject(new Error("boom")),
      storeFailures: () => 0,
      dumpBudget: () => ({ perSecond: 0, demandPerSecond: 0, maxPerSecond: 0 }),
    });
    expect(await registry.metrics()).toMatch(/^stallwatch_ready 0$/m);
  });
});

describe("ClusterMetrics", () => {
  it("counts members that drop out of the list, not those that join", async () => {
    const registry = new Registry();
    const cluster = new ClusterMetrics(registry);
    cluster.membersSeen(["a", "b", "c"]);
    cluster.membersSeen(["a", "c", "d"]);
    cluster.membersSeen(["a"]);
    const text = await registry.metrics();
    expect(text).toMatch(/^stallwatch_cluster_members 1$/m);
    expect(text).toMatch(/^stallwatch_cluster_members_lost_total 3$/m);
  });
});
