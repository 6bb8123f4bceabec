import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Histogram } from "prom-client";
import { describe, expect, it } from "vitest";
import { Fleet } from "../fleet/fleet.js";
import { EventLog } from "../events/event-log.js";
import { FakeClock } from "../../testing/fake-clock.js";
import { PROMTOOL, requireBinary } from "../../testing/prometheus-binaries.js";
import { PolicyMetrics } from "../policies/policy-metrics.js";
import { ClusterMetrics } from "./cluster-metrics.js";
import { GatewayMetrics } from "./gateway-metrics.js";
import { HealthMetrics } from "./health-metrics.js";

const DIR = fileURLToPath(new URL("../../../deploy/prometheus/", import.meta.url));
const RULES = `${DIR}stallwatch-rules.yml`;

function promtool(args: string[]) {
  const out = spawnSync(requireBinary(PROMTOOL), args, {
    cwd: DIR,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: out.status, text: `${out.stdout}${out.stderr}` };
}

/** Every metric the gateway registers, as Prometheus names its series. */
function exportedNames(): Set<string> {
  const clock = new FakeClock();
  const fleet = new Fleet({ clock, events: new EventLog(clock, 10, () => undefined) });
  const metrics = new GatewayMetrics(fleet, () => 0);
  new HealthMetrics(metrics.registry, {
    readiness: () => Promise.resolve({ ready: true }),
    storeFailures: () => 0,
    dumpBudget: () => ({ perSecond: 50, demandPerSecond: 1, maxPerSecond: 500 }),
  });
  new ClusterMetrics(metrics.registry);
  new PolicyMetrics(metrics.registry, ["p"]);
  const names = new Set<string>();
  for (const m of metrics.registry.getMetricsAsArray()) {
    names.add(m.name);
    if (m instanceof Histogram)
      for (const s of ["_bucket", "_sum", "_count"]) names.add(m.name + s);
  }
  metrics.close();
  fleet.close();
  return names;
}

describe("deploy/prometheus/stallwatch-rules.yml", () => {
  it("passes promtool check rules", () => {
    const { status, text } = promtool(["check", "rules", RULES]);
    expect(text).toContain("SUCCESS");
    expect(status).toBe(0);
  });

  it("passes its promtool test rules cases, firing and not firing", () => {
    const { status, text } = promtool(["test", "rules", "stallwatch-rules.test.yml"]);
    expect(text).toContain("SUCCESS");
    expect(status).toBe(0);
  });

  it("names only metrics the gateway exports", () => {
    const used = new Set(readFileSync(RULES, "utf8").match(/\bstallwatch_[a-z0-9_]+/g) ?? []);
    const exported = exportedNames();
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
    expect(used.size).toBeGreaterThan(8);
  });

  it("has a test case for every alert it defines", () => {
    const alerts = [...readFileSync(RULES, "utf8").matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    const tests = readFileSync(`${DIR}stallwatch-rules.test.yml`, "utf8");
    for (const alert of alerts) {
      expect(tests).toMatch(new RegExp(`alertname: ${alert}\\n\\s+exp_alerts: \\[\\]`));
      expect(tests).toMatch(new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n`));
    }
  });
});
