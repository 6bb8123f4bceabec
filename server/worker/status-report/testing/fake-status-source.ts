import { create } from "@bufbuild/protobuf";
import {
  CommandOutcome,
  FinishedSessionSchema,
  SessionOutcome,
  ProgressSchema,
  SessionSchema,
  SessionState,
  ThreadDumpSchema,
  ThreadSchema,
  type FinishedSession,
  type Session,
  type Thread,
  type ThreadDump,
} from "../../../../gen/stallwatch/v1/agent_pb.js";
import type { WorkerStatusSource } from "../status-source.js";

/** A cancel as the fake received it. */
export interface ReceivedCancel {
  sessionId: string;
  reason: string;
  graceMs: number;
}

/**
 * A deterministic `WorkerStatusSource` for tests of the channels that report
 * it (the agent, Beam mode). It stands in for the worker's session machinery
 * (server/worker); every field can be changed between steps, and dumps
 * and cancels can be made slow, failing or hanging on purpose.
 */
export class FakeStatusSource implements WorkerStatusSource {
  live: Session[];
  done: FinishedSession[];
  threads: Thread[];
  /** How a dump behaves: answer after `dumpDelayMs`, fail, or never settle. */
  dumpMode: "ok" | "fail" | "hang" = "ok";
  dumpDelayMs = 0;
  /** When set, dumps wait for it (then `dumpDelayMs`): lets a test hold a dump open. */
  dumpGate: Promise<void> | undefined;
  /** Makes `sessions()` throw, as a broken source might. */
  sessionsFail = false;
  dumpCalls = 0;
  readonly cancels: ReceivedCancel[] = [];
  /** How long a cancel takes; `hang` never settles. */
  cancelDelayMs = 0;
  cancelMode: "ok" | "throw" | "hang" = "ok";

  constructor(nowMs: number) {
    const session = (
      sessionId: string,
      state: SessionState,
      enteredAgoMs: number,
      startedAgoMs: number,
      udfName: string,
      threadId: string,
    ) =>
      create(SessionSchema, {
        sessionId,
        state,
        stateEnteredAtMs: BigInt(nowMs - enteredAgoMs),
        startedAtMs: BigInt(nowMs - startedAgoMs),
        udfName,
        udfFormat: "arrow",
        threadId,
      });
    const hung = session("s-hung", SessionState.PROCESSING, 42_000, 60_000, "hang", "udf-7");
    hung.taskContext = { stage: "3", partition: "17" };
    hung.progress = create(ProgressSchema, {
      rowsIn: 10n,
      batchesIn: 1n,
      lastProgressAtMs: BigInt(nowMs - 42_000),
    });
    this.live = [
      hung,
      session("s-busy", SessionState.WAITING_FOR_INPUT, 1_500, 5_000, "double", "udf-8"),
    ];
    this.done = [1, 2, 3, 4, 5, 6, 7].map((i) =>
      create(FinishedSessionSchema, {
        sessionId: `s-done-${i}`,
        udfName: "double",
        outcome: i === 2 ? SessionOutcome.CANCELLED : SessionOutcome.FINISHED,
        startedAtMs: BigInt(nowMs - 100_000 + i),
        endedAtMs: BigInt(nowMs - 90_000 + i),
      }),
    );
    this.threads = [
      create(ThreadSchema, {
        threadId: "main-0",
        name: "main (event loop)",
        state: "idle",
        frames: ["<event loop>"],
      }),
      create(ThreadSchema, {
        threadId: "udf-7",
        name: "udf hang s-hung",
        state: "running",
        sessionId: "s-hung",
        frames: [
          "blockForever (/app/dist/server/worker/udf/demo-udfs.js:41:13)",
          "hang (/app/dist/server/worker/udf/demo-udfs.js:52:5)",
          "runBatch (/app/dist/server/worker/udf/udf-thread.js:88:22)",
        ],
      }),
      create(ThreadSchema, {
        threadId: "udf-8",
        name: "udf double s-busy",
        state: "idle",
        sessionId: "s-busy",
        frames: ["waitForBatch (/app/dist/server/worker/udf/udf-thread.js:30:9)"],
      }),
    ];
  }

  sessions(): Session[] {
    if (this.sessionsFail) throw new Error("session table unavailable");
    return this.live;
  }

  finished(max: number): FinishedSession[] {
    return this.done.slice(0, max);
  }

  dumpThreads(): Promise<ThreadDump> {
    this.dumpCalls += 1;
    const mode = this.dumpMode;
    if (mode === "hang") return new Promise<never>(() => undefined);
    const gate = this.dumpGate ?? Promise.resolve();
    return gate.then(() => this.dumpAfterDelay(mode));
  }

  private dumpAfterDelay(mode: "ok" | "fail"): Promise<ThreadDump> {
    return new Promise((resolve, reject) => {
      setTimeout(() => {
        if (mode === "fail") reject(new Error("inspector refused to attach"));
        else
          resolve(
            create(ThreadDumpSchema, {
              takenAtMs: BigInt(Date.now()),
              costMicros: 1234n,
              threads: this.threads,
            }),
          );
      }, this.dumpDelayMs);
    });
  }

  async cancelSession(
    sessionId: string,
    reason: string,
    graceMs: number,
  ): Promise<{ outcome: CommandOutcome; message: string }> {
    this.cancels.push({ sessionId, reason, graceMs });
    if (this.cancelMode === "throw") throw new Error("cancel machinery broke");
    if (this.cancelMode === "hang") return new Promise<never>(() => undefined);
    await new Promise((r) => setTimeout(r, this.cancelDelayMs));
    const index = this.live.findIndex((s) => s.sessionId === sessionId);
    if (index < 0) {
      return this.done.some((f) => f.sessionId === sessionId)
        ? { outcome: CommandOutcome.ALREADY_ENDED, message: "the session had already ended" }
        : { outcome: CommandOutcome.NOT_FOUND, message: `no session ${sessionId} on this worker` };
    }
    const [ended] = this.live.splice(index, 1);
    this.done.unshift(
      create(FinishedSessionSchema, {
        sessionId,
        udfName: ended?.udfName ?? "",
        outcome: SessionOutcome.CANCELLED,
        errorMessage: `cancelled by an operator: ${reason}`,
      }),
    );
    return {
      outcome: CommandOutcome.THREAD_TERMINATED,
      message: `user code did not yield within ${graceMs} ms; its thread was terminated`,
    };
  }
}
