import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import type { Clock } from "../../shared/clock/clock.js";
import type { UdfSpec } from "./udf-spec.js";
import {
  CANCEL_FLAG,
  type FromUdfThread,
  type ToUdfThread,
  type WorkFigures,
} from "./thread-messages.js";

const THREAD_ENTRY = fileURLToPath(new URL("./udf-thread.js", import.meta.url));

/** Why a call into user code did not produce output. */
export class UdfFailure extends Error {
  constructor(
    readonly kind: "user" | "cancelled" | "data" | "terminated",
    message: string,
    readonly errorClass = "",
    readonly traceback = "",
  ) {
    super(message);
    this.name = "UdfFailure";
  }
}

export type Output = Extract<FromUdfThread, { type: "output" }>;
export type Generated = Extract<FromUdfThread, { type: "generated" }>;
export type FinishDone = Extract<FromUdfThread, { type: "finishDone" }>;

type Expect = "initDone" | "output" | "generateDone" | "finishDone";

/**
 * The main thread's handle on one session's UDF thread. Calls are strictly
 * one at a time (the session state machine guarantees it). It is the
 * `StoppableThread` that sessions/session-lifecycle.ts drives on a cancel:
 * flag first, terminated after the grace; a pending call on a terminated
 * thread fails as `terminated`.
 */
export class UdfThreadHandle {
  private readonly control = new SharedArrayBuffer(8);
  private readonly flags = new Int32Array(this.control);
  private readonly worker: Worker;
  private pending:
    | { expect: Expect; resolve: (m: FromUdfThread) => void; reject: (e: UdfFailure) => void }
    | undefined;
  private onGenerated: ((g: Generated) => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  private exited = false;
  readonly exitedPromise: Promise<void>;
  /** What the thread is doing, for thread dumps when it cannot be asked. */
  activity = "starting";
  activitySinceMs: number;

  /** The thread's Linux tid once it reported it (for its CPU time in /proc). */
  osTid: number | undefined;

  /** What the thread runs now, e.g. "udf-hang-<session>" (for logs); set per session. */
  runs: string;

  constructor(
    runs: string,
    private readonly clock: Clock,
  ) {
    this.runs = runs;
    this.activitySinceMs = clock.now();
    this.worker = new Worker(THREAD_ENTRY, {
      workerData: { control: this.control },
      name: "udf-thread",
      // A runaway UDF must not take the worker's memory with it.
      resourceLimits: { maxOldGenerationSizeMb: 512 },
    });
    this.worker.on("message", (message: FromUdfThread) => this.onMessage(message));
    this.exitedPromise = new Promise((resolve) => {
      this.worker.once("exit", () => {
        this.exited = true;
        this.settle()?.reject(new UdfFailure("terminated", "the UDF thread was terminated"));
        resolve();
      });
    });
    this.worker.on("error", (err) => {
      this.settle()?.reject(new UdfFailure("user", err.message, err.name, err.stack ?? ""));
    });
  }

  /** The thread's id as thread dumps name it. */
  get threadId(): number {
    return this.worker.threadId;
  }

  /**
   * The thread's one name: the session's `thread_id`, and the id and name
   * in every thread dump (the dashboard's "thread udf-2" link finds "udf-2").
   */
  get name(): string {
    return udfThreadName(this.worker.threadId);
  }

  init(spec: UdfSpec, inputSchema: Uint8Array | undefined): Promise<WorkFigures> {
    return this.call(
      "initDone",
      { type: "init", spec, inputSchema },
      `${spec.fn}.init`,
    ) as Promise<WorkFigures>;
  }

  process(seq: number, data: Uint8Array, fn: string): Promise<Output> {
    return this.call(
      "output",
      { type: "batch", seq, data },
      `${fn}.process (batch ${seq})`,
    ) as Promise<Output>;
  }

  generate(fn: string, onGenerated: (g: Generated) => void): Promise<WorkFigures> {
    this.onGenerated = onGenerated;
    return this.call(
      "generateDone",
      { type: "generate" },
      `${fn}.generate`,
    ) as Promise<WorkFigures>;
  }

  finish(fn: string): Promise<FinishDone> {
    return this.call("finishDone", { type: "finish" }, `${fn}.finish`) as Promise<FinishDone>;
  }

  /** True once the thread has exited (terminated, crashed or stopped). */
  get gone(): boolean {
    return this.exited;
  }

  /** True while a call into user code is in progress. */
  get busy(): boolean {
    return this.pending !== undefined && !this.exited;
  }

  /** Sets the shared flag user code can poll (and wakes a cancellable sleep). */
  raiseCancelFlag(): void {
    Atomics.store(this.flags, CANCEL_FLAG, 1);
    Atomics.notify(this.flags, CANCEL_FLAG);
  }

  /** Resolves when the call in progress ends, however it ends (at once when idle). */
  whenIdle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Idle, alive and not cancelled: fit to run the next session. */
  get reusable(): boolean {
    return !this.exited && !this.pending && Atomics.load(this.flags, CANCEL_FLAG) === 0;
  }

  /** Clears per-session state before the thread runs another session. */
  resetForReuse(runs: string): void {
    this.runs = runs;
    this.activity = "idle";
    this.activitySinceMs = this.clock.now();
    this.onGenerated = undefined;
  }

  async terminate(): Promise<void> {
    if (this.exited) return;
    await this.worker.terminate();
    await this.exitedPromise;
  }

  private call(expect: Expect, message: ToUdfThread, activity: string): Promise<FromUdfThread> {
    if (this.exited) return Promise.reject(new UdfFailure("terminated", "the UDF thread is gone"));
    if (this.pending)
      return Promise.reject(new UdfFailure("user", "internal: a UDF call is already in flight"));
    this.activity = activity;
    this.activitySinceMs = this.clock.now();
    return new Promise((resolve, reject) => {
      this.pending = { expect, resolve, reject };
      // Copied, not transferred: the bytes may share a buffer with the gRPC stream.
      this.worker.postMessage(message);
    });
  }

  /** Ends the call in progress (returning it) and tells whoever waits for the thread to be idle. */
  private settle() {
    const pending = this.pending;
    this.pending = undefined;
    for (const wake of this.idleWaiters.splice(0)) wake();
    return pending;
  }

  private onMessage(message: FromUdfThread): void {
    if (message.type === "osThread") {
      this.osTid = message.tid;
      return;
    }
    if (message.type === "generated") {
      this.onGenerated?.(message);
      return;
    }
    const pending = this.settle();
    if (!pending) return;
    this.activity = "idle";
    this.activitySinceMs = this.clock.now();
    if (message.type === "error") {
      pending.reject(
        new UdfFailure(message.kind, message.message, message.errorClass, message.traceback),
      );
    } else if (message.type === pending.expect) {
      pending.resolve(message);
    } else {
      pending.reject(
        new UdfFailure("user", `internal: expected ${pending.expect}, got ${message.type}`),
      );
    }
  }
}

/** `udf-<worker thread id>`: how sessions, dumps and the dashboard name a UDF thread. */
export function udfThreadName(threadId: number): string {
  return `udf-${threadId}`;
}
