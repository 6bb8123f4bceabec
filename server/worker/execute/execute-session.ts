import type {
  UdfRequest,
  UdfResponse,
} from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { SessionOutcome } from "../../../gen/stallwatch/v1/agent_pb.js";
import { dataPhase } from "./data-phase.js";
import { initPhase } from "./init-phase.js";
import { errors } from "./responses.js";
import { abort } from "./session-endings.js";
import { ProtocolViolation, StreamBroken } from "./session-errors.js";
import { SessionIo, type ExecuteHost } from "./session-io.js";
import { emitBeforeInput } from "./source-phase.js";

export type { ExecuteHost } from "./session-io.js";

/**
 * One Execute stream, the worker's side of the Spark UDF protocol
 * (shared/spec/udf-protocol.md, "Execute stream rules"):
 *
 * engine: Init, PayloadChunk* (when chunking), DataRequest*, Finish — or Cancel
 * at any point (also after Finish, never before it).
 * worker: one InitResponse, DataResponse*, at most one ErrorResponse, then
 * exactly one terminator (FinishResponse or CancelResponse).
 *
 * A transport error ends the session as a cancel, with nothing more sent.
 * The phases live beside this file: init-phase, source-phase (UDFs that emit
 * before input), data-phase; every ending is in session-endings; cancels stop
 * user code through the session's lifecycle (sessions/session-lifecycle.ts).
 */
export class ExecuteSession {
  private readonly io: SessionIo;

  constructor(requests: AsyncIterable<UdfRequest>, host: ExecuteHost, signal: AbortSignal) {
    this.io = new SessionIo(requests, host, signal);
  }

  get id(): string {
    return this.io.id;
  }

  async *run(): AsyncGenerator<UdfResponse> {
    const io = this.io;
    try {
      if (!(yield* initPhase(io))) return;
      const { spec, thread } = io;
      if (!spec || !thread) return;
      if (spec.capabilities.emitsBeforeInput && !(yield* emitBeforeInput(io, spec, thread))) return;
      yield* dataPhase(io, spec, thread);
    } catch (err) {
      if (err instanceof ProtocolViolation) {
        yield* abort(io, errors.protocol(err.message), "error-then-cancel", true);
      } else if (err instanceof StreamBroken) {
        // The transport broke: clean up as for Cancel and send nothing more.
        io.outcome = SessionOutcome.CANCELLED;
        io.errorMessage = `stream broke: ${err.message}`;
      } else {
        io.host.log.error({ err, session: io.id }, "session failed inside the worker");
        yield* abort(
          io,
          errors.worker(`internal worker error: ${(err as Error).message}`),
          "error-then-cancel",
          true,
        );
      }
    } finally {
      if (io.thread) await io.host.threads.release(io.thread);
      io.close();
    }
  }
}
