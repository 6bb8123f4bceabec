import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ProfileMode } from "../../../gen/stallwatch/v1/agent_pb.js";
import type { Logger } from "../../shared/logging/logger.js";
import { FakeClock } from "../../testing/fake-clock.js";
import type { TrackedWorker } from "../fleet/tracked-worker.js";
import { ProfileRunner, type ProfileRunnerDeps } from "./profile-runner.js";

/** The parts of a fleet worker that admitting a profile reads. */
function worker(id: string, state: string, capabilities: string[] = ["profile"]): TrackedWorker {
  return {
    id,
    liveness: { current: { state, reason: state === "gone" ? "stream closed" : "" } },
    agent: capabilities.length ? { announce: { capabilities }, connected: true } : undefined,
    // A partial TrackedWorker: admit() reads only the fields above.
  } as unknown as TrackedWorker;
}

function runnerWith(workers: TrackedWorker[], perMinute: number, clock = new FakeClock()) {
  const byId = new Map(workers.map((w) => [w.id, w]));
  const withAgent = (id: string) => (byId.get(id)?.agent ? true : false);
  const deps = {
    fleet: { get: (id: string) => byId.get(id) },
    agents: { has: withAgent },
    beams: { has: () => false },
    collector: { collectNow: () => undefined },
    clock,
    // admit() and forget() never log: a logger that is never called.
    log: undefined as unknown as Logger,
    dumpEveryMs: 2000,
    perMinute,
    // Stand-ins for the channels and the fleet: admit() calls only get() and has().
  } as unknown as ProfileRunnerDeps;
  return { runner: new ProfileRunner(deps), clock };
}

const spec = (profileId: string, workerId: string) => ({
  profileId,
  workerId,
  sessionId: "",
  threadId: "",
  mode: ProfileMode.WALL,
  durationMs: 10_000,
});

const refusal = (fn: () => void) => {
  try {
    fn();
    return "admitted";
  } catch (err) {
    const e = ConnectError.from(err);
    return `${Code[e.code]}: ${e.rawMessage}`;
  }
};

describe("ProfileRunner.admit", () => {
  it("refuses an unknown worker, a gone one, and one that cannot be sampled, each saying why", () => {
    const { runner } = runnerWith(
      [worker("gone-1", "gone"), worker("manage-only", "healthy", [])],
      10,
    );
    expect(refusal(() => runner.admit(spec("a", "nobody")))).toBe(
      'NotFound: no worker "nobody" in the fleet',
    );
    expect(refusal(() => runner.admit(spec("b", "gone-1")))).toBe(
      "FailedPrecondition: worker gone-1 is gone (stream closed); there is nothing to profile",
    );
    expect(refusal(() => runner.admit(spec("c", "manage-only")))).toMatch(
      /^FailedPrecondition: worker manage-only speaks only the Spark Manage protocol/,
    );
  });

  it("allows one profile per worker at a time; a refused action's reservation is released", () => {
    const { runner } = runnerWith([worker("w1", "healthy")], 10);
    runner.admit(spec("first", "w1"));
    expect(refusal(() => runner.admit(spec("second", "w1")))).toBe(
      "FailedPrecondition: a profile (first) is already running on worker w1; one at a time per worker",
    );
    runner.forget("first");
    expect(refusal(() => runner.admit(spec("third", "w1")))).toBe("admitted");
  });

  it("refuses past the fleet-wide rate with ResourceExhausted, and admits again a minute later", async () => {
    const { runner, clock } = runnerWith(
      [worker("w1", "healthy"), worker("w2", "healthy"), worker("w3", "healthy")],
      2,
    );
    runner.admit(spec("p1", "w1"));
    runner.admit(spec("p2", "w2"));
    expect(refusal(() => runner.admit(spec("p3", "w3")))).toMatch(
      /^ResourceExhausted: 2 profiles were started fleet-wide in the last minute/,
    );
    await clock.advance(60_000);
    expect(refusal(() => runner.admit(spec("p4", "w3")))).toBe("admitted");
  });
});
