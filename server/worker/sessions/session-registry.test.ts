import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ExecutionMetricsSchema } from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { CommandOutcome, SessionOutcome } from "../../../gen/stallwatch/v1/agent_pb.js";
import { FakeClock, flush } from "../../testing/fake-clock.js";
import type { LiveSession } from "./live-session.js";
import { SessionRegistry } from "./session-registry.js";

const metrics = create(ExecutionMetricsSchema, {});

/** What an Execute session's loop does with an outside cancel while no user code runs. */
function answerCancels(registry: SessionRegistry, session: LiveSession): void {
  void session.lifecycle.asked().then(async (request) => {
    await session.lifecycle.stopUserCode(undefined, request.graceMs);
    registry.close(session, SessionOutcome.CANCELLED, metrics);
  });
}

describe("SessionRegistry", () => {
  it("times sessions on its clock", async () => {
    const clock = new FakeClock(5_000);
    const registry = new SessionRegistry(clock);
    const session = registry.open();
    await clock.advance(250);
    registry.close(session, SessionOutcome.FINISHED, metrics);
    const [done] = registry.finished(1);
    expect([done?.startedAtMs, done?.endedAtMs]).toEqual([5_000n, 5_250n]);
  });

  it("cancelSession: idle user code, a session that already ended, an unknown one", async () => {
    const registry = new SessionRegistry(new FakeClock());
    const session = registry.open();
    answerCancels(registry, session);
    const answer = await registry.cancelSession(session.id, "stuck", 2000);
    expect(answer.outcome).toBe(CommandOutcome.CANCELLED_COOPERATIVELY);
    expect((await registry.cancelSession(session.id, "again", 2000)).outcome).toBe(
      CommandOutcome.ALREADY_ENDED,
    );
    expect((await registry.cancelSession("nope", "x", 1)).outcome).toBe(CommandOutcome.NOT_FOUND);
  });

  it("a session that finishes while the cancel is in flight answers ALREADY_ENDED", async () => {
    const registry = new SessionRegistry(new FakeClock());
    const session = registry.open();
    const answer = registry.cancelSession(session.id, "late", 2000);
    registry.close(session, SessionOutcome.FINISHED, metrics);
    expect((await answer).outcome).toBe(CommandOutcome.ALREADY_ENDED);
  });

  it("drain: whenIdle resolves once the last live session closed, cancelAll reaches every one", async () => {
    const registry = new SessionRegistry(new FakeClock());
    const a = registry.open();
    const b = registry.open();
    let idle = false;
    void registry.whenIdle().then(() => (idle = true));
    registry.close(a, SessionOutcome.FINISHED, metrics);
    await flush();
    expect(idle).toBe(false);
    answerCancels(registry, b);
    expect(await registry.cancelAll("shutdown", 100)).toEqual(["idle"]);
    await flush();
    expect(idle).toBe(true);
    expect(registry.activeCount).toBe(0);
  });
});
