import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActionStatus } from "../../../gen/stallwatch/v1/control_pb.js";
import { PolicyMode, PolicyOutcome } from "../../../gen/stallwatch/v1/policy_pb.js";
import { apiClients } from "../../testing/api-clients.js";
import { pollUntil } from "../../testing/poll.js";
import { freshDbPath, killAllStarted, runStallwatch } from "../../testing/spawn-stallwatch.js";
import { startTestGateway, type TestGateway } from "../../testing/test-gateway.js";
import { startHealthyAgent } from "../../testing/test-worker.js";
import {
  hangSession,
  hungPolicy,
  metricsText,
  policyActionEnded,
  writePolicyFile,
} from "../../testing/policy-fixtures.js";

const TOKEN = "policies-operator-token";
const STATUS_INTERVAL_MS = 1000;

describe("remediation policies on a real gateway and real workers", () => {
  let gateway: TestGateway;
  let api: ReturnType<typeof apiClients>;
  let policyFile: string;
  const gatewayFlags = () => ({
    "policy-file": policyFile,
    "status-interval-ms": STATUS_INTERVAL_MS,
    "watched-status-interval-ms": STATUS_INTERVAL_MS,
  });

  beforeAll(async () => {
    policyFile = writePolicyFile(
      `policies:\n${hungPolicy("enforce-hung", "enforce", "enf-")}${hungPolicy("dry-hung", "dry-run", "dry-")}${hungPolicy("capped", "enforce", "cap-", "    max_actions: 2\n")}`,
    );
    gateway = await startTestGateway({
      db: freshDbPath(),
      operatorToken: TOKEN,
      flags: gatewayFlags(),
    });
    api = apiClients(gateway.http, TOKEN);
  });
  afterAll(async () => {
    await gateway.stop();
    killAllStarted();
  });

  it("enforce: cancels a hung session as policy:<name>, with the evidence pinned to the action and its audit record", async () => {
    const worker = await startHealthyAgent(gateway, "enf-1");
    const { sessionId, driver } = await hangSession(api, "enf-1", worker.address);
    const record = await policyActionEnded(api, "enforce-hung", sessionId);
    expect(record).toMatchObject({
      actor: "policy:enforce-hung",
      workerId: "enf-1",
      result: ActionStatus.SUCCEEDED,
    });
    expect(record.reason).toMatch(
      /^remediation policy enforce-hung: processing for \d+ s; no progress for \d+ s/,
    );
    expect(record.evidence).toMatch(/^processing for \d+ s; no progress for \d+ s/);
    expect(record.evidenceSnapshotId).not.toBe("");
    expect(record.outcome).toMatch(/cancel/);
    // The evidence snapshot exists and is the worker's.
    const { snapshot } = await api.snapshots.getSnapshot({ id: record.evidenceSnapshotId });
    expect(snapshot?.info?.createdBy).toBe("policy:enforce-hung");
    // The decision names its action; it came after the threshold, never before.
    const [decision] = (await api.policies.listPolicyDecisions({ policy: "enforce-hung" }))
      .decisions;
    expect(decision).toMatchObject({
      outcome: PolicyOutcome.ACTED,
      mode: PolicyMode.ENFORCE,
      actionId: record.actionId,
      sessionId,
      evidenceSnapshotId: record.evidenceSnapshotId,
    });
    // The session is gone from the worker, and the action is never repeated.
    await pollUntil(
      async () =>
        (await api.fleet.getWorker({ workerId: "enf-1" })).detail?.sessions.length === 0
          ? true
          : undefined,
      { what: "the session to end" },
    );
    await new Promise((r) => setTimeout(r, 2 * STATUS_INTERVAL_MS));
    const all = (await api.control.listAudit({ actor: "policy:enforce-hung" })).records;
    expect(all.filter((r) => r.sessionId === sessionId)).toHaveLength(1);
    const events = (await api.fleet.listEvents({ workerId: "enf-1", kind: "policy_acted" })).events;
    expect(events.map((e) => e.summary)).toEqual([
      expect.stringMatching(/^policy enforce-hung cancelled the session: processing for/),
    ]);
    driver.abort();
  });

  it("dry run: records the same match as would-have-acted, and takes no action", async () => {
    const worker = await startHealthyAgent(gateway, "dry-1");
    const { sessionId, driver } = await hangSession(api, "dry-1", worker.address);
    const decision = await pollUntil(
      async () =>
        (await api.policies.listPolicyDecisions({ policy: "dry-hung" })).decisions.find(
          (d) => d.sessionId === sessionId,
        ),
      { timeoutMs: 30_000, what: "the dry-run decision" },
    );
    expect(decision).toMatchObject({
      outcome: PolicyOutcome.WOULD_ACT,
      mode: PolicyMode.DRY_RUN,
      actionId: "",
      workerId: "dry-1",
    });
    expect(decision.evidence).toMatch(/^processing for \d+ s; no progress for \d+ s/);
    await new Promise((r) => setTimeout(r, 2 * STATUS_INTERVAL_MS));
    expect((await api.control.listAudit({ workerId: "dry-1" })).records).toEqual([]);
    const sessions = (await api.fleet.getWorker({ workerId: "dry-1" })).detail?.sessions ?? [];
    expect(sessions.map((s) => s.session?.sessionId)).toContain(sessionId);
    const { policies } = await api.policies.listPolicies({});
    expect(policies.find((p) => p.name === "dry-hung")?.counts).toMatchObject({
      matches: 1n,
      wouldHaveActed: 1n,
      acted: 0n,
    });
    expect(await metricsText(gateway.http)).toMatch(
      /stallwatch_policy_actions_total\{policy="dry-hung",outcome="would_act"\} 1\b/,
    );
    driver.abort();
  });

  it("the cap binds: K actions in the window, then SKIPPED_CAP, an event and a metric", async () => {
    const worker = await startHealthyAgent(gateway, "cap-1");
    const seen = new Set<string>();
    const sessions = [];
    for (let i = 0; i < 3; i++)
      sessions.push(await hangSession(api, "cap-1", worker.address, seen));
    const decisions = await pollUntil(
      async () => {
        const found = (await api.policies.listPolicyDecisions({ policy: "capped" })).decisions;
        return found.length >= 3 ? found : undefined;
      },
      { timeoutMs: 30_000, what: "three decisions of the capped policy" },
    );
    const outcomes = decisions.map((d) => d.outcome).sort();
    expect(outcomes).toEqual([PolicyOutcome.ACTED, PolicyOutcome.ACTED, PolicyOutcome.SKIPPED_CAP]);
    const skipped = decisions.find((d) => d.outcome === PolicyOutcome.SKIPPED_CAP);
    expect(skipped?.detail).toMatch(/^cap reached: 2 actions per 10 min, fleet-wide/);
    expect(skipped?.actionId).toBe("");
    expect((await api.control.listAudit({ actor: "policy:capped" })).records).toHaveLength(2);
    const events = (await api.fleet.listEvents({ workerId: "cap-1", kind: "policy_cap_reached" }))
      .events;
    expect(events).toHaveLength(1);
    const metrics = await metricsText(gateway.http);
    expect(metrics).toMatch(/stallwatch_policy_cap_reached_total\{policy="capped"\} 1\b/);
    expect(metrics).toMatch(
      /stallwatch_policy_actions_total\{policy="capped",outcome="skipped_cap"\} 1\b/,
    );
    expect(metrics).toMatch(
      /stallwatch_policy_actions_total\{policy="capped",outcome="acted"\} 2\b/,
    );
    const { policies } = await api.policies.listPolicies({});
    expect(policies.find((p) => p.name === "capped")?.counts).toMatchObject({
      acted: 2n,
      skippedCap: 1n,
      actionsInWindow: 2,
    });
    for (const s of sessions) s.driver.abort();
  });

  it("the dry-run switch: operator only, audited, obeyed, and kept across a restart", async () => {
    const viewer = apiClients(gateway.http);
    await expect(viewer.policies.setDryRunOverride({ on: true, reason: "x" })).rejects.toThrow(
      /operator/,
    );
    const { dryRunOverride } = await api.policies.setDryRunOverride({
      on: true,
      reason: "incident 42",
    });
    expect(dryRunOverride).toMatchObject({ on: true, reason: "incident 42" });
    const audit = (await api.control.listAudit({})).records.find(
      (r) => r.id === dryRunOverride?.auditId,
    );
    expect(audit?.outcome).toMatch(/policy dry-run switch on: every policy held in dry run/);
    const worker = await startHealthyAgent(gateway, "enf-2");
    const { sessionId, driver } = await hangSession(api, "enf-2", worker.address);
    const decision = await pollUntil(
      async () =>
        (await api.policies.listPolicyDecisions({ policy: "enforce-hung" })).decisions.find(
          (d) => d.sessionId === sessionId,
        ),
      { timeoutMs: 30_000, what: "the held decision" },
    );
    expect(decision.outcome).toBe(PolicyOutcome.WOULD_ACT);
    expect((await api.control.listAudit({ workerId: "enf-2" })).records).toEqual([]);

    // Restarted on the same database, the gateway still holds every policy in dry run.
    const { http, grpc } = gateway;
    const db = String(gateway.listening.db);
    await gateway.stop();
    gateway = await startTestGateway({
      startTimeoutMs: 30_000,
      http,
      grpc,
      db,
      operatorToken: TOKEN,
      flags: gatewayFlags(),
    });
    api = apiClients(gateway.http, TOKEN);
    const listed = await api.policies.listPolicies({});
    expect(listed.dryRunOverride?.on).toBe(true);
    expect(listed.policies.find((p) => p.name === "enforce-hung")).toMatchObject({
      configuredMode: PolicyMode.ENFORCE,
      effectiveMode: PolicyMode.DRY_RUN,
    });
    await api.policies.setDryRunOverride({ on: false, reason: "over" });
    expect(
      (await api.policies.listPolicies({})).policies.find((p) => p.name === "enforce-hung")
        ?.effectiveMode,
    ).toBe(PolicyMode.ENFORCE);
    driver.abort();
  });
});

describe("SIGHUP reloads the policy file", () => {
  afterAll(() => killAllStarted());
  it("adds a policy that then acts, and a broken file changes nothing, naming its problem", async () => {
    const file = writePolicyFile(`policies:\n${hungPolicy("kept", "dry-run", "rl-")}`);
    const gateway = await startTestGateway({
      operatorToken: TOKEN,
      flags: {
        "policy-file": file,
        "status-interval-ms": STATUS_INTERVAL_MS,
        "watched-status-interval-ms": STATUS_INTERVAL_MS,
      },
    });
    const api = apiClients(gateway.http, TOKEN);
    const names = async () => (await api.policies.listPolicies({})).policies.map((p) => p.name);
    let worker: Awaited<ReturnType<typeof startHealthyAgent>> | undefined;
    try {
      expect(await names()).toEqual(["kept"]);
      writeFileSync(
        file,
        `policies:\n${hungPolicy("kept", "dry-run", "rl-")}${hungPolicy("added", "enforce", "rl2-")}`,
      );
      gateway.child.kill("SIGHUP");
      const reloaded = await gateway.waitForLog((l) => l.msg === "policies reloaded");
      expect(reloaded.added).toEqual(["added"]);
      expect(await names()).toEqual(["kept", "added"]);
      expect(await metricsText(gateway.http)).toContain(
        'stallwatch_policy_matches_total{policy="added",mode="enforce"} 0',
      );
      // The added policy judges from the next tick: it cancels a hung session.
      worker = await startHealthyAgent(gateway, "rl2-1");
      const { sessionId, driver } = await hangSession(api, "rl2-1", worker.address);
      const record = await policyActionEnded(
        api,
        "added",
        sessionId,
        "the reloaded policy's action to end",
      );
      expect(record.result).toBe(ActionStatus.SUCCEEDED);
      driver.abort();

      // A broken edit: refused whole, the policies in force kept, the gateway running.
      writeFileSync(file, `policies:\n  - { name: broken, action: drain, match: {} }\n`);
      gateway.child.kill("SIGHUP");
      const refused = await gateway.waitForLog(
        (l) => l.msg === "policy file not reloaded: the policies in force are kept",
      );
      expect(String(refused.problems)).toMatch(/policies\[0\]/);
      expect(await names()).toEqual(["kept", "added"]);
      expect(gateway.child.exitCode).toBeNull();
    } finally {
      await worker?.stop();
      await gateway.stop();
    }
  }, 60_000);
});

describe("a policy file the gateway refuses", () => {
  it.each([
    [
      "a malformed duration",
      `- { name: bad, action: cancel-session, match: { no_progress_for: "10 minutez", selector: "worker_id=a*" } }`,
      /policies\[0\]\.match\.no_progress_for: "10 minutez" is not a duration \(use 90s, 10m, 1h\)/,
    ],
    [
      "a policy that matches every worker",
      `- { name: all, action: drain, match: { in_state_for: 10m, selector: "worker_id=*" } }`,
      /policies\[0\]\.match\.selector: "worker_id=\*" matches every worker/,
    ],
  ])("exits 2 on %s, naming the field", async (_what, text, expected) => {
    const file = writePolicyFile(text);
    const { code, stderr } = await runStallwatch([
      "gateway",
      "--http",
      "127.0.0.1:0",
      "--grpc",
      "127.0.0.1:0",
      "--policy-file",
      file,
    ]);
    expect(code).toBe(2);
    expect(stderr).toMatch(expected);
  });
});
