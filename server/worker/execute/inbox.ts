import type { UdfRequest } from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";

export type Next =
  { kind: "message"; message: UdfRequest } | { kind: "end" } | { kind: "broken"; error: Error };

/**
 * The engine's messages, read at most one ahead. Reading one ahead is what
 * lets a Cancel that follows the batch in progress be seen while user code
 * runs; reading no further keeps gRPC flow control meaningful (the worker
 * never buffers the engine's data without bound).
 */
export class Inbox {
  private readonly iterator: AsyncIterator<UdfRequest>;
  private ahead: Promise<Next> | undefined;
  /** Time spent waiting for the engine, for ExecutionMetrics.receive_wall_nanos. */
  waitedNs = 0;

  constructor(requests: AsyncIterable<UdfRequest>) {
    this.iterator = requests[Symbol.asyncIterator]();
  }

  /** The next message without consuming it. */
  peek(): Promise<Next> {
    this.ahead ??= this.iterator.next().then(
      (r): Next => (r.done ? { kind: "end" } : { kind: "message", message: r.value }),
      (err: unknown): Next => ({
        kind: "broken",
        error: err instanceof Error ? err : new Error(String(err)),
      }),
    );
    return this.ahead;
  }

  /** The next message, consumed. */
  async take(): Promise<Next> {
    const started = process.hrtime.bigint();
    const next = await this.peek();
    this.waitedNs += Number(process.hrtime.bigint() - started);
    // A stream that ended or broke stays that way.
    if (next.kind === "message") this.ahead = undefined;
    return next;
  }
}

/** Which message this is, by its oneof branches. */
export type RequestKind = "init" | "payload" | "finish" | "cancel" | "data" | "empty";

export function kindOf(request: UdfRequest): RequestKind {
  const r = request.request;
  if (r.case === "data") return "data";
  if (r.case === "control") {
    const c = r.value.control.case;
    return c ?? "empty";
  }
  return "empty";
}
