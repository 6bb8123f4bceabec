import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import {
  InitSchema,
  UdfRequestSchema,
  type UdfRequest,
  type UdfResponse,
} from "../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import type { UdfWorker } from "../../gen/org/apache/spark/udf/worker/udf_service_pb.js";

/**
 * The engine's end of one Execute stream, driven step by step: send a
 * message, read the next response with a deadline, half-close, abort. Used
 * by the engine command and by the protocol tests (which need to send
 * out-of-order messages on purpose).
 */
export class ExecuteDriver {
  private readonly outbox: UdfRequest[] = [];
  private wakeSender: (() => void) | undefined;
  private closed = false;
  private readonly responses: AsyncIterator<UdfResponse>;
  private readonly controller = new AbortController();
  private pendingNext: Promise<IteratorResult<UdfResponse>> | undefined;

  constructor(client: Client<typeof UdfWorker>, opts: { timeoutMs?: number } = {}) {
    const call = client.execute(this.requests(), {
      signal: this.controller.signal,
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    });
    this.responses = call[Symbol.asyncIterator]();
  }

  private async *requests(): AsyncGenerator<UdfRequest> {
    for (;;) {
      const next = this.outbox.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.wakeSender = resolve));
    }
  }

  send(message: MessageInitShape<typeof UdfRequestSchema>): void {
    this.outbox.push(create(UdfRequestSchema, message));
    this.wakeSender?.();
  }

  /** Half-closes the engine's side (after the terminator, per the protocol). */
  end(): void {
    this.closed = true;
    this.wakeSender?.();
  }

  /** Breaks the stream, as a crashed engine would. */
  abort(): void {
    this.controller.abort();
    this.end();
  }

  /**
   * The next response; undefined when the worker ended the stream. Throws
   * after `timeoutMs`; the response still on its way is kept for the next call.
   */
  async next(timeoutMs = 10_000): Promise<UdfResponse | undefined> {
    this.pendingNext ??= this.responses.next();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const r = await Promise.race([this.pendingNext, timeout]);
      this.pendingNext = undefined;
      return r.done ? undefined : r.value;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Shorthands for the engine's messages. */
export const engineSays = {
  init: (init: MessageInitShape<typeof InitSchema>): MessageInitShape<typeof UdfRequestSchema> => ({
    request: { case: "control", value: { control: { case: "init", value: init } } },
  }),
  chunk: (data: Uint8Array, last: boolean): MessageInitShape<typeof UdfRequestSchema> => ({
    request: { case: "control", value: { control: { case: "payload", value: { data, last } } } },
  }),
  data: (data: Uint8Array): MessageInitShape<typeof UdfRequestSchema> => ({
    request: { case: "data", value: { data } },
  }),
  finish: (): MessageInitShape<typeof UdfRequestSchema> => ({
    request: { case: "control", value: { control: { case: "finish", value: {} } } },
  }),
  cancel: (reason = ""): MessageInitShape<typeof UdfRequestSchema> => ({
    request: { case: "control", value: { control: { case: "cancel", value: { reason } } } },
  }),
  empty: (): MessageInitShape<typeof UdfRequestSchema> => ({}),
};

/** A short, readable name for a response, for logs and test assertions. */
export function describeResponse(r: UdfResponse | undefined): string {
  if (!r) return "end";
  if (r.response.case === "data") return "data";
  if (r.response.case === "control") {
    const c = r.response.value.control;
    if (c.case === "init")
      return c.value.error ? `init-error:${c.value.error.kind.case ?? "?"}` : "init";
    if (c.case === "error") return `error:${c.value.error?.kind.case ?? "?"}`;
    if (c.case === "finish") return c.value.error ? "finish-error" : "finish";
    if (c.case === "cancel") return "cancel";
  }
  return "empty";
}
