import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActionStatus } from "../../../gen/stallwatch/v1/control_pb.js";
import { PolicyOutcome } from "../../../gen/stallwatch/v1/policy_pb.js";
import { apiClients } from "../../testing/api-clients.js";
import {
  OPERATOR_TOKEN,
  startClusterGateway,
  type ClusterGateway,
} from "../../testing/cluster-harness.js";
import { pollUntil } from "../../testing/poll.js";
import { startPostgres, type PostgresServer } from "../../testing/postgres.js";
import { killAllStarted } from "../../testing/spawn-stallwatch.js";
import { startHealthyAgent } from "../../testing/test-worker.js";
import { hangSession, hungPolicy, writePolicyFile } from "../../testing/policy-fixtures.js";

describe("a policy on 3 gateways sharing one PostgreSQL", () => {
  let pg: PostgresServer;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    killAllStarted();
    await pg.stop();
  });

  it("acts exactly once per match, within one fleet-wide cap, also when a gateway is SIGKILLed mid-match", async () => {
    const db = await pg.createDatabase();
    const flags = {
      "policy-file": writePolicyFile(
        `policies:\n${hungPolicy("pg-hung", "enforce", "pg-", "    max_actions: 2\n")}`,
      ),
      "status-interval-ms": 1000,
      "watched-status-interval-ms": 1000,
    };
    const [a, b] = await Promise.all([
      startClusterGateway("a", db, [], { flags }),
      startClusterGateway("b", db, [], { flags }),
    ]);
    // c kills itself (SIGKILL) right after committing its first decision to act.
    let c: ClusterGateway = await startClusterGateway("c", db, [], {
      flags,
      env: { STALLWATCH_TEST_EXIT_AT: "policy-decided" },
    });
    const api = apiClients(a.http, OPERATOR_TOKEN);

    // c's worker first: c decides, commits, and dies before acting.
    const onC = await startHealthyAgent(c.process, "pg-c");
    const hungC = await hangSession(apiClients(c.http, OPERATOR_TOKEN), "pg-c", onC.address);
    expect(await c.process.exited).toBe("SIGKILL");
    // Meanwhile a and b each see a match: the cap (2, fleet-wide) has room for one of them.
    const onA = await startHealthyAgent(a.process, "pg-a");
    const onB = await startHealthyAgent(b.process, "pg-b");
    const hungA = await hangSession(apiClients(a.http, OPERATOR_TOKEN), "pg-a", onA.address);
    const hungB = await hangSession(apiClients(b.http, OPERATOR_TOKEN), "pg-b", onB.address);
    const decided = await pollUntil(
      async () => {
        const found = (await api.policies.listPolicyDecisions({ policy: "pg-hung" })).decisions;
        return found.length >= 3 ? found : undefined;
      },
      { timeoutMs: 45_000, what: "a decision for each of the three matches" },
    );
    expect(decided.map((d) => d.outcome).sort()).toEqual([
      PolicyOutcome.ACTED,
      PolicyOutcome.ACTED,
      PolicyOutcome.SKIPPED_CAP,
    ]);
    expect(decided.find((d) => d.workerId === "pg-c")).toMatchObject({
      outcome: PolicyOutcome.ACTED,
      gatewayId: "c",
    });

    // c comes back under its own id; pg-c's agent reconnects, and c starts the decided action.
    c = await startClusterGateway("c", db, [], { flags, http: c.http, grpc: c.process.grpc });
    const ended = await pollUntil(
      async () => {
        const records = (await api.control.listAudit({ actor: "policy:pg-hung" })).records;
        return records.length >= 2 && records.every((r) => r.result !== ActionStatus.RUNNING)
          ? records
          : undefined;
      },
      { timeoutMs: 60_000, what: "both actions to end" },
    );
    await new Promise((r) => setTimeout(r, 3000));
    const records = (await api.control.listAudit({ actor: "policy:pg-hung" })).records;
    expect(records).toHaveLength(2);
    expect(ended).toHaveLength(2);
    const acted = (await api.policies.listPolicyDecisions({ policy: "pg-hung" })).decisions.filter(
      (d) => d.outcome === PolicyOutcome.ACTED,
    );
    // One action per ACTED decision, under the decision's id, and pg-c's among them.
    expect(records.map((r) => r.actionId).sort()).toEqual(acted.map((d) => d.actionId).sort());
    expect(records.map((r) => r.sessionId)).toContain(hungC.sessionId);
    expect(records.every((r) => r.result === ActionStatus.SUCCEEDED)).toBe(true);
    const { policies } = await apiClients(b.http, OPERATOR_TOKEN).policies.listPolicies({});
    expect(policies[0]?.counts).toMatchObject({ acted: 2n, skippedCap: 1n, matches: 3n });
    for (const s of [hungA, hungB, hungC]) s.driver.abort();
    await Promise.all([a.process.stop(), b.process.stop(), c.process.stop()]);
  });
});
