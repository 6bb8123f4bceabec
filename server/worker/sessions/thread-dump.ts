import { Session } from "node:inspector";
import { threadId as mainThreadId } from "node:worker_threads";
import { create } from "@bufbuild/protobuf";
import {
  ThreadDumpSchema,
  ThreadSchema,
  type Thread,
  type ThreadDump,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import { sleep, withTimeout, type Clock } from "../../shared/clock/clock.js";
import type { LiveSession } from "./live-session.js";

/** Never aborts: the attach wait below is bounded by its own count. */
const NO_ABORT = new AbortController().signal;

/**
 * Longest a single thread may take to pause; a dump never waits longer per
 * thread (threads are read in parallel). User code runs at nice 10, so on a
 * loaded machine its thread can wait a while for a CPU before it serves the
 * pause interrupt: a second is generous without stalling the report.
 */
const PAUSE_DEADLINE_MS = 1000;
const MAX_FRAMES = 64;

interface Attached {
  sessionId: string;
}

interface CallFrame {
  functionName: string;
  url: string;
  location: { scriptId: string; lineNumber: number; columnNumber: number };
}

/**
 * Reads the stacks of UDF worker threads through the inspector's NodeWorker
 * domain: the main thread attaches to each worker thread and asks V8 to pause
 * it. V8 serves a pause through an interrupt, so it works for a thread in a
 * tight loop and for one blocked in Atomics.wait; the thread resumes at once.
 * The main thread's event loop is never blocked by this: every step is a
 * message with a deadline.
 */
class WorkerStacks {
  private session: Session | undefined;
  private readonly attached = new Map<string, Attached>();
  private readonly waiting = new Map<string, (message: Record<string, unknown>) => void>();
  private nextId = 1;

  private ensure(): Session {
    if (this.session) return this.session;
    const session = new Session();
    session.connect();
    session.on(
      "NodeWorker.attachedToWorker",
      (m: { params: { sessionId: string; workerInfo: { workerId: string; title: string } } }) => {
        // The inspector's workerId is its own counter, in attach order, which
        // differs from the thread id when threads start together (the warm
        // pool); the title says "[worker <threadId>] <name>".
        const threadId = /^\[worker (\d+)\]/.exec(m.params.workerInfo.title)?.[1];
        if (threadId) this.attached.set(threadId, { sessionId: m.params.sessionId });
      },
    );
    session.on("NodeWorker.detachedFromWorker", (m: { params: { sessionId: string } }) => {
      for (const [id, a] of this.attached)
        if (a.sessionId === m.params.sessionId) this.attached.delete(id);
    });
    session.on(
      "NodeWorker.receivedMessageFromWorker",
      (m: { params: { sessionId: string; message: string } }) => {
        let message: Record<string, unknown>;
        try {
          message = JSON.parse(m.params.message) as Record<string, unknown>;
        } catch {
          return;
        }
        const key =
          typeof message.id === "number"
            ? `${m.params.sessionId}:${message.id}`
            : message.method === "Debugger.paused"
              ? `${m.params.sessionId}:paused`
              : undefined;
        if (key) {
          this.waiting.get(key)?.(message);
          this.waiting.delete(key);
        }
      },
    );
    session.post("NodeWorker.enable", { waitForDebuggerOnStart: false });
    this.session = session;
    return session;
  }

  private send(
    sessionId: string,
    method: string,
    params: object = {},
  ): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(`${sessionId}:${id}`, resolve);
      this.ensure().post("NodeWorker.sendMessageToWorker", {
        sessionId,
        message: JSON.stringify({ id, method, params }),
      });
    });
  }

  /** The stack of worker thread `threadId`, innermost first; undefined when it could not be read in time. */
  async stack(threadId: number, clock: Clock): Promise<string[] | undefined> {
    this.ensure();
    // Attachment is announced asynchronously after a thread starts.
    for (let i = 0; i < 10 && !this.attached.has(String(threadId)); i++)
      await sleep(clock, 10, NO_ABORT);
    const target = this.attached.get(String(threadId));
    if (!target) return undefined;
    const { sessionId } = target;
    const urls = new Map<string, string>();
    const collect = (m: { params: { sessionId: string; message: string } }) => {
      if (m.params.sessionId !== sessionId || !m.params.message.includes('"Debugger.scriptParsed"'))
        return;
      const parsed = JSON.parse(m.params.message) as { params: { scriptId: string; url: string } };
      urls.set(parsed.params.scriptId, parsed.params.url);
    };
    const session = this.ensure();
    session.on("NodeWorker.receivedMessageFromWorker", collect);
    try {
      const enabled = await withTimeout(
        this.send(sessionId, "Debugger.enable"),
        PAUSE_DEADLINE_MS,
        clock,
      );
      if (!enabled) return undefined;
      const paused = new Promise<Record<string, unknown>>((resolve) =>
        this.waiting.set(`${sessionId}:paused`, resolve),
      );
      void this.send(sessionId, "Debugger.pause");
      const event = await withTimeout(paused, PAUSE_DEADLINE_MS, clock);
      this.waiting.delete(`${sessionId}:paused`);
      if (!event) return undefined;
      void this.send(sessionId, "Debugger.resume");
      const frames = (
        (event.params as { callFrames?: CallFrame[] } | undefined)?.callFrames ?? []
      ).slice(0, MAX_FRAMES);
      return frames.map((f) => {
        const url = f.url || urls.get(f.location.scriptId) || "<anonymous>";
        const file = url.replace(/^file:\/\//, "");
        return `${f.functionName || "<anonymous>"} (${file}:${f.location.lineNumber + 1}:${f.location.columnNumber + 1})`;
      });
    } finally {
      session.off("NodeWorker.receivedMessageFromWorker", collect);
      void this.send(sessionId, "Debugger.disable");
    }
  }
}

const workerStacks = new WorkerStacks();

/**
 * Every thread of this worker with its stack: the main thread (serving gRPC;
 * resting by definition, since it is answering) and each session's UDF
 * thread, read live. A thread that cannot be paused in time is reported with
 * what the session knows it is doing, marked as such.
 */
export async function dumpThreads(sessions: LiveSession[], clock: Clock): Promise<ThreadDump> {
  const started = process.hrtime.bigint();
  const threads: Thread[] = [
    create(ThreadSchema, {
      threadId: `main-${mainThreadId}`,
      name: "main (event loop: gRPC, Manage, agent)",
      state: "idle",
      frames: ["<event loop>"],
    }),
  ];
  const reads = sessions.map(async (s) => {
    const handle = s.thread;
    if (!handle) return undefined;
    const stack = await workerStacks.stack(handle.threadId, clock).catch(() => undefined);
    const busy = handle.activity !== "idle";
    return create(ThreadSchema, {
      threadId: handle.name,
      name: handle.name,
      state: busy ? "running" : "idle",
      frames: stack ?? [
        `${handle.activity} (stack unavailable: the thread did not pause within ${PAUSE_DEADLINE_MS} ms)`,
      ],
      sessionId: s.id,
    });
  });
  for (const t of await Promise.all(reads)) if (t) threads.push(t);
  return create(ThreadDumpSchema, {
    takenAtMs: BigInt(clock.now()),
    costMicros: (process.hrtime.bigint() - started) / 1000n,
    threads,
  });
}
