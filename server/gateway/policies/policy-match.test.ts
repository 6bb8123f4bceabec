import { describe, expect, it } from "vitest";
import { parsePolicyFile } from "./policy-file.js";
import { matchSession } from "./policy-match.js";
import { processingSession, stubWorker } from "./testing/fleet-stubs.js";

const NOW = 10_000_000;
const matchOf = (fields: string) =>
  parsePolicyFile(`- { name: p, action: cancel-session, match: { ${fields} } }`, "t")[0]?.match ??
  expect.fail("no policy");

describe("matchSession", () => {
  const hungFor = (ms: number) => processingSession("s1", NOW - ms);

  it("matches at the threshold, never before, and says what matched", () => {
    const match = matchOf(`in_state_for: 10m, no_progress_for: 10m, selector: "worker_id=etl-*"`);
    const worker = (ms: number) => stubWorker({ id: "etl-1", sessions: [hungFor(ms)] });
    expect(matchSession(match, worker(599_999), hungFor(599_999), NOW)).toBeUndefined();
    expect(matchSession(match, worker(600_000), hungFor(600_000), NOW)).toBe(
      "processing for 10 min; no progress for 10 min",
    );
  });

  it("needs progress to have stopped, not only time in the state", () => {
    const match = matchOf(`in_state_for: 1m, no_progress_for: 1m, selector: "worker_id=w"`);
    const moving = processingSession("s1", NOW - 600_000, NOW - 5_000);
    expect(
      matchSession(match, stubWorker({ id: "w", sessions: [moving] }), moving, NOW),
    ).toBeUndefined();
  });

  it.each([
    ["another worker id", `selector: "worker_id=etl-*"`, { id: "web-1" }],
    ["another kind", `selector: "worker_id=*x", worker_kinds: [beam]`, { id: "x" }],
    ["another state", `selector: "worker_id=w", session_states: [finishing]`, { id: "w" }],
    ["another task context", `selector: "task_context.app=nightly-*"`, { id: "w" }],
    ["a missing task context key", `selector: "task_context.job=*-etl"`, { id: "w" }],
    ["another UDF", `selector: "udf=slow*"`, { id: "w" }],
  ])("does not match %s", (_what, fields, { id }) => {
    const match = matchOf(`in_state_for: 1m, ${fields}`);
    const session = processingSession("s1", NOW - 600_000, NOW - 600_000, {
      taskContext: { app: "adhoc-3" },
    });
    expect(
      matchSession(match, stubWorker({ id, sessions: [session] }), session, NOW),
    ).toBeUndefined();
  });

  it("matches on a task-context glob and a thread that has not moved, naming its frame", () => {
    const match = matchOf(
      `in_state_for: 1m, thread_not_moving_for: 5m, selector: "task_context.spark.app.name=nightly-?"`,
    );
    const session = processingSession("s1", NOW - 3_600_000, NOW - 3_600_000, {
      taskContext: { "spark.app.name": "nightly-7" },
      threadId: "udf-1",
    });
    const worker = (since: number) =>
      stubWorker({
        id: "w",
        sessions: [session],
        threads: [["udf-1", since, "recv_into (socket.py:706)"]],
        dumpAtMs: NOW - 1000,
      });
    // Not moving for 4 min as far as the dumps saw: not yet.
    expect(matchSession(match, worker(NOW - 241_000), session, NOW)).toBeUndefined();
    expect(matchSession(match, worker(NOW - 301_000), session, NOW)).toBe(
      "processing for 60 min; no progress for 60 min; thread udf-1 not moving for 5 min at recv_into (socket.py:706)",
    );
    // No dump of its thread: a thread condition cannot hold.
    expect(
      matchSession(match, stubWorker({ id: "w", sessions: [session] }), session, NOW),
    ).toBeUndefined();
  });
});
