import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { CommandOutcome, CommandSchema } from "../../../gen/stallwatch/v1/agent_pb.js";
import { runCommand } from "./command-runner.js";
import { FakeStatusSource } from "../status-report/testing/fake-status-source.js";
import { systemClock } from "../../shared/clock/clock.js";

const cancel = (sessionId: string, graceMs = 0) =>
  create(CommandSchema, {
    commandId: "c-1",
    kind: { case: "cancelSession", value: { sessionId, reason: "hung in recv", graceMs } },
  });
const opts = { defaultGraceMs: 2000, overGraceMs: 8000, clock: systemClock };

describe("runCommand", () => {
  it("cancels through the source and reports its outcome, message and time taken", async () => {
    const source = new FakeStatusSource(Date.now());
    const result = await runCommand(source, cancel("s-hung", 800), opts);
    expect(source.cancels).toEqual([{ sessionId: "s-hung", reason: "hung in recv", graceMs: 800 }]);
    expect(result.commandId).toBe("c-1");
    expect(result.outcome).toBe(CommandOutcome.THREAD_TERMINATED);
    expect(result.message).toMatch(/within 800 ms/);
    expect(result.tookMs).toBeGreaterThanOrEqual(0n);
  });

  it("uses the default grace when the command says 0", async () => {
    const source = new FakeStatusSource(Date.now());
    await runCommand(source, cancel("s-hung"), opts);
    expect(source.cancels[0]?.graceMs).toBe(2000);
  });

  it("passes NOT_FOUND and ALREADY_ENDED through", async () => {
    const source = new FakeStatusSource(Date.now());
    expect((await runCommand(source, cancel("nope"), opts)).outcome).toBe(CommandOutcome.NOT_FOUND);
    expect((await runCommand(source, cancel("s-done-1"), opts)).outcome).toBe(
      CommandOutcome.ALREADY_ENDED,
    );
  });

  it("answers FAILED for a throwing source, a hanging cancel, an empty id and an unknown command", async () => {
    const source = new FakeStatusSource(Date.now());
    source.cancelMode = "throw";
    const thrown = await runCommand(source, cancel("s-hung"), opts);
    expect(thrown).toMatchObject({
      outcome: CommandOutcome.FAILED,
      message: "cancel machinery broke",
    });

    source.cancelMode = "hang";
    const hung = await runCommand(source, cancel("s-hung", 10), { ...opts, overGraceMs: 20 });
    expect(hung.outcome).toBe(CommandOutcome.FAILED);
    expect(hung.message).toMatch(/did not finish within 30 ms/);

    const empty = await runCommand(source, cancel(""), opts);
    expect(empty).toMatchObject({ outcome: CommandOutcome.FAILED, message: /session_id/ });

    const unknown = await runCommand(source, create(CommandSchema, { commandId: "c-2" }), opts);
    expect(unknown).toMatchObject({ commandId: "c-2", outcome: CommandOutcome.FAILED });
  });
});
