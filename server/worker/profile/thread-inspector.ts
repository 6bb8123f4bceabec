import { Session } from "node:inspector";
import { withTimeout, type Clock } from "../../shared/clock/clock.js";

/** Longest one inspector message to a UDF thread may take to be answered. */
const ANSWER_DEADLINE_MS = 2000;

/**
 * The main thread's inspector session on UDF worker threads (the NodeWorker
 * domain), for the profiler: each thread's own V8 inspector is reached by
 * message, and V8 serves those messages through an interrupt, so they reach a
 * thread spinning in user code or blocked in `Atomics.wait`. A separate
 * session from the thread dumps' (sessions/thread-dump.ts) so a profile never
 * shares a pause or a `Debugger` domain with a dump.
 */
export class ThreadInspector {
  private session: Session | undefined;
  private readonly attached = new Map<string, string>();
  private readonly waiting = new Map<string, (message: Record<string, unknown>) => void>();
  private nextId = 1;

  constructor(private readonly clock: Clock) {}

  private ensure(): Session {
    if (this.session) return this.session;
    const session = new Session();
    session.connect();
    session.on(
      "NodeWorker.attachedToWorker",
      (m: { params: { sessionId: string; workerInfo: { title: string } } }) => {
        // The title says "[worker <threadId>] <name>" (see thread-dump.ts).
        const threadId = /^\[worker (\d+)\]/.exec(m.params.workerInfo.title)?.[1];
        if (threadId) this.attached.set(threadId, m.params.sessionId);
      },
    );
    session.on("NodeWorker.detachedFromWorker", (m: { params: { sessionId: string } }) => {
      for (const [id, s] of this.attached) if (s === m.params.sessionId) this.attached.delete(id);
    });
    session.on(
      "NodeWorker.receivedMessageFromWorker",
      (m: { params: { sessionId: string; message: string } }) => {
        // Only answers (with an id) are awaited; events are not parsed at all.
        if (!m.params.message.startsWith('{"id":')) return;
        const message = JSON.parse(m.params.message) as Record<string, unknown>;
        const key = `${m.params.sessionId}:${String(message.id)}`;
        this.waiting.get(key)?.(message);
        this.waiting.delete(key);
      },
    );
    session.post("NodeWorker.enable", { waitForDebuggerOnStart: false });
    this.session = session;
    return session;
  }

  /** The inspector session of worker thread `threadId`, waiting up to 200 ms for it to attach. */
  async sessionOf(threadId: number): Promise<string | undefined> {
    this.ensure();
    for (let i = 0; i < 20 && !this.attached.has(String(threadId)); i++)
      await new Promise((r) => setTimeout(r, 10));
    return this.attached.get(String(threadId));
  }

  /**
   * Sends one protocol method to a thread and resolves with its `result`;
   * rejects on a protocol error, when the thread detaches or after 2 s.
   */
  async call(sessionId: string, method: string, params: object = {}): Promise<unknown> {
    const id = this.nextId++;
    const key = `${sessionId}:${id}`;
    const answer = new Promise<Record<string, unknown>>((resolve) =>
      this.waiting.set(key, resolve),
    );
    this.ensure().post("NodeWorker.sendMessageToWorker", {
      sessionId,
      message: JSON.stringify({ id, method, params }),
    });
    const message = await withTimeout(answer, ANSWER_DEADLINE_MS, this.clock);
    this.waiting.delete(key);
    if (!message)
      throw new Error(`${method}: no answer from the thread within ${ANSWER_DEADLINE_MS} ms`);
    const error = message.error as { message?: string } | undefined;
    if (error) throw new Error(`${method}: ${error.message ?? "protocol error"}`);
    return message.result;
  }

  /** True while the thread's inspector session is attached (false once the thread exited). */
  isAttached(sessionId: string): boolean {
    return [...this.attached.values()].includes(sessionId);
  }
}
