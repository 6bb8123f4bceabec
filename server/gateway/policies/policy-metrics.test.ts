import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { PolicyMetrics } from "./policy-metrics.js";

const seriesOf = async (registry: Registry) =>
  (await registry.metrics())
    .split("\n")
    .filter((line) => line.startsWith("stallwatch_policy_") && line.includes("policy="));

describe("PolicyMetrics", () => {
  it("has every series of the configured policies at 0 from the start", async () => {
    const registry = new Registry();
    new PolicyMetrics(registry, ["hung", "silent"]);
    const series = await seriesOf(registry);
    // 2 modes + 4 outcomes + 1 cap series, per policy.
    expect(series).toHaveLength(14);
    expect(series.every((line) => line.endsWith(" 0"))).toBe(true);
  });

  it("keeps the counts of policies a reload kept, starts the added ones, drops the removed ones", async () => {
    const registry = new Registry();
    const metrics = new PolicyMetrics(registry, ["hung", "silent"]);
    metrics.matched("hung", "enforce");
    metrics.outcome("silent", "acted");
    metrics.keepOnly(["hung", "added"]);
    const text = await registry.metrics();
    expect(text).toMatch(/stallwatch_policy_matches_total\{policy="hung",mode="enforce"\} 1/);
    expect(text).toMatch(/stallwatch_policy_actions_total\{policy="added",outcome="acted"\} 0/);
    expect(text).not.toContain('policy="silent"');
    expect(await seriesOf(registry)).toHaveLength(14);
  });

  it("stays bounded by the policies in force across many reloads with new names", async () => {
    const registry = new Registry();
    const metrics = new PolicyMetrics(registry, []);
    for (let i = 0; i < 200; i++) metrics.keepOnly([`p${i}`, `q${i}`]);
    expect(await seriesOf(registry)).toHaveLength(14);
  });
});
