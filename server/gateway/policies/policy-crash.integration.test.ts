import { afterAll, describe, expect, it } from "vitest";
import { ActionStatus } from "../../../gen/stallwatch/v1/control_pb.js";
import { PolicyOutcome } from "../../../gen/stallwatch/v1/policy_pb.js";
import { apiClients } from "../../testing/api-clients.js";
import { pollUntil } from "../../testing/poll.js";
import { freshDbPath, killAllStarted } from "../../testing/spawn-stallwatch.js";
import { startTestGateway } from "../../testing/test-gateway.js";
import { startHealthyAgent } from "../../testing/test-worker.js";
import { hangSession, hungPolicy, writePolicyFile } from "../../testing/policy-fixtures.js";

const TOKEN = "policy-crash-operator-token";

describe("a gateway killed between a policy's decision and its action", () => {
  afterAll(() => killAllStarted());

  it("neither loses nor doubles the action after the restart", async () => {
    const db = freshDbPath();
    const flags = {
      "policy-file": writePolicyFile(`policies:\n${hungPolicy("hung", "enforce", "crash-")}`),
      "status-interval-ms": 1000,
      "watched-status-interval-ms": 1000,
    };
    // Test-only hook (gateway-command.ts): SIGKILL right after the decision commits.
    const first = await startTestGateway({
      db,
      operatorToken: TOKEN,
      flags,
      env: { STALLWATCH_TEST_EXIT_AT: "policy-decided" },
    });
    const worker = await startHealthyAgent(first, "crash-1");
    const { sessionId, driver } = await hangSession(
      apiClients(first.http, TOKEN),
      "crash-1",
      worker.address,
    );
    expect(await first.exited).toBe("SIGKILL");
    const restartedAtMs = Date.now();

    const second = await startTestGateway({
      http: first.http,
      grpc: first.grpc,
      db,
      operatorToken: TOKEN,
      flags,
    });
    const api = apiClients(second.http, TOKEN);
    // The decision was committed by the first process, before it died.
    const decisions = (await api.policies.listPolicyDecisions({ policy: "hung" })).decisions;
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ outcome: PolicyOutcome.ACTED, sessionId });
    expect(Number(decisions[0]?.atMs)).toBeLessThan(restartedAtMs);

    // The worker's agent reconnects; the same action (the decision's id) runs once.
    const record = await pollUntil(
      async () =>
        (await api.control.listAudit({ actor: "policy:hung" })).records.find(
          (r) => r.result !== ActionStatus.RUNNING,
        ),
      { timeoutMs: 45_000, what: "the resumed action to end" },
    );
    expect(record).toMatchObject({
      actionId: decisions[0]?.actionId,
      sessionId,
      result: ActionStatus.SUCCEEDED,
    });
    await new Promise((r) => setTimeout(r, 2000));
    expect((await api.control.listAudit({ actor: "policy:hung" })).records).toHaveLength(1);
    expect((await api.policies.listPolicyDecisions({ policy: "hung" })).decisions).toMatchObject([
      { outcome: PolicyOutcome.ACTED, actionId: record.actionId },
    ]);
    driver.abort();
    await second.stop();
  });
});
