import { afterEach, describe, expect, it } from "vitest";
import { ActionStatus } from "../../gen/stallwatch/v1/control_pb.js";
import { PolicyOutcome } from "../../gen/stallwatch/v1/policy_pb.js";
import { apiClients } from "../testing/api-clients.js";
import { writePolicyFile } from "../testing/policy-fixtures.js";
import { pollUntil } from "../testing/poll.js";
import {
  freshDbPath,
  killAllStarted,
  startStallwatch,
  type StallwatchProcess,
} from "../testing/spawn-stallwatch.js";

const TOKEN = "demo-policies-operator-token";
/** The policy's threshold (in_state_for and no_progress_for). */
const THRESHOLD_MS = 20_000;

let demo: StallwatchProcess | undefined;
afterEach(async () => {
  await demo?.stop(15_000);
  killAllStarted();
});

describe("the demo with a policy in enforce mode", () => {
  it("cancels demo-1's hung session as the policy, with the evidence in the audit record", async () => {
    const policyFile = writePolicyFile(`policies:
  - name: hung-udf
    mode: enforce
    match:
      session_states: [processing]
      in_state_for: 20s
      no_progress_for: 20s
      selector: "worker_id=demo-1"
    action: cancel-session
    max_actions: 1
`);
    demo = await startStallwatch(
      [
        ...["demo", "--workers", "5", "--policy-file", policyFile],
        ...["--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--db", freshDbPath()],
        ...["--operator-token", TOKEN],
      ],
      { startTimeoutMs: 60_000 },
    );
    const ready = await demo.waitForLog((l) => l.msg === "demo ready", 90_000);
    const api = apiClients(
      String(ready.url)
        .replace(/^http:\/\//, "")
        .replace(/\/$/, ""),
      TOKEN,
    );
    const record = await pollUntil(
      async () =>
        (await api.control.listAudit({ actor: "policy:hung-udf" })).records.find(
          (r) => r.result !== ActionStatus.RUNNING,
        ),
      { timeoutMs: 120_000, intervalMs: 1000, what: "the policy's cancel to end" },
    );
    expect(record).toMatchObject({ workerId: "demo-1", result: ActionStatus.SUCCEEDED });
    // The hang never yields: the cancel escalates to terminating its thread.
    expect(record.outcome).toMatch(/thread terminated/);
    expect(record.evidence).toMatch(
      /^processing for \d+ s; no progress for \d+ s; thread \S+ not moving for \d+ s at blockForever/,
    );
    expect(record.evidenceSnapshotId).not.toBe("");
    const [decision] = (await api.policies.listPolicyDecisions({ policy: "hung-udf" })).decisions;
    expect(decision).toMatchObject({ outcome: PolicyOutcome.ACTED, actionId: record.actionId });
    // Never before the threshold: the evidence's time in state is at least 20 s.
    const inStateS = Number(/^processing for (\d+) s/.exec(record.evidence)?.[1]);
    expect(inStateS * 1000).toBeGreaterThanOrEqual(THRESHOLD_MS);
  }, 240_000);
});
