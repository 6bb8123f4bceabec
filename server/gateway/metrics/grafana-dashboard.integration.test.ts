import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pollUntil } from "../../testing/poll.js";
import { startPrometheus, type TestPrometheus } from "../../testing/prometheus.js";
import { killAllStarted } from "../../testing/spawn-stallwatch.js";
import { startTestGateway, type TestGateway } from "../../testing/test-gateway.js";
import { startHealthyAgent, startTestWorkers } from "../../testing/test-worker.js";

const DEPLOY = fileURLToPath(new URL("../../../deploy/", import.meta.url));
const POLICY_FILE = fileURLToPath(new URL("../../demo/policies.yaml", import.meta.url));

interface Panel {
  id: number;
  title: string;
  targets?: { expr: string }[];
}

interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; query: { query: string } }[] };
}

const dashboard = JSON.parse(readFileSync(`${DEPLOY}grafana/stallwatch.json`, "utf8")) as Dashboard;

/** A panel's query as Grafana would send it with every gateway selected. */
function asSent(expr: string): string {
  return expr
    .replaceAll("$__rate_interval", "30s")
    .replaceAll("$instance", ".*")
    .replaceAll("$job", ".*");
}

/**
 * The dashboard's queries evaluated by a real Prometheus scraping a real
 * gateway with real workers: nothing is derived from the dashboard itself,
 * so a metric renamed in the gateway (or in the dashboard) leaves its panel
 * empty and fails here.
 */
describe("deploy/grafana/stallwatch.json against a real Prometheus", () => {
  let gateway: TestGateway;
  let prometheus: TestPrometheus;

  beforeAll(async () => {
    const workers = await startTestWorkers(["dash-1", "dash-2"]);
    // A dry-run policy, so the policy panels' series exist (each policy's counters start at 0).
    gateway = await startTestGateway({
      workers: workers.map((w) => w.address),
      flags: { "policy-file": POLICY_FILE },
    });
    await startHealthyAgent(gateway, "dash-agent");
    prometheus = await startPrometheus({
      targets: [gateway.http],
      ruleFiles: [`${DEPLOY}prometheus/stallwatch-rules.yml`],
    });
  }, 60_000);
  afterAll(async () => {
    await prometheus.stop();
    killAllStarted();
  });

  it("is importable: a Prometheus datasource input, unique panel ids, every panel with a query", () => {
    expect(JSON.stringify(dashboard)).toContain("${DS_PROMETHEUS}");
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels)
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
  });

  it("returns series for every panel query and every variable", async () => {
    const queries = [
      ...dashboard.panels.flatMap((p) =>
        (p.targets ?? []).map((t) => ({ what: p.title, expr: t.expr })),
      ),
      // label_values(METRIC, LABEL): the metric must have series carrying the label.
      ...dashboard.templating.list.map((v) => {
        const [, metric = "", label = ""] =
          /^label_values\((.+), (\w+)\)$/.exec(v.query.query) ?? [];
        return { what: `variable ${v.name}`, expr: `count by (${label}) (${metric})` };
      }),
    ];
    const empty = new Set(queries.map((q) => q.what + ": " + q.expr));
    await pollUntil(
      async () => {
        for (const q of queries) {
          const key = q.what + ": " + q.expr;
          if (!empty.has(key)) continue;
          if ((await prometheus.query(asSent(q.expr))).length > 0) empty.delete(key);
        }
        return empty.size === 0 ? true : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 1000, what: "every dashboard query to return series" },
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; still empty:\n${[...empty].join("\n")}`);
    });
    expect([...empty]).toEqual([]);
  }, 60_000);

  it("evaluates every alert rule without error against the gateway's real series", async () => {
    const rules = await pollUntil(
      async () => {
        const res = await fetch(`${prometheus.url}/api/v1/rules`);
        const body = (await res.json()) as {
          data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
        };
        const all = body.data.groups.flatMap((g) => g.rules);
        return all.length > 0 && all.every((r) => r.health === "ok") ? all : undefined;
      },
      { timeoutMs: 20_000, what: "every rule evaluated with health ok" },
    );
    expect(rules.map((r) => r.name)).toContain("StallwatchSessionsStalled");
  }, 30_000);
});
