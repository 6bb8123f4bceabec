import type { Client } from "@connectrpc/connect";
import { UDFWorkerDataFormat } from "../../gen/org/apache/spark/udf/worker/common_pb.js";
import type { UdfWorker } from "../../gen/org/apache/spark/udf/worker/udf_service_pb.js";
import { describeResponse, engineSays, ExecuteDriver } from "./execute-driver.js";

export interface EngineSessionSpec {
  /** The demo UDF spec, e.g. { fn: "echo" }. */
  udf: Record<string, unknown>;
  batches: number;
  /** One Arrow IPC stream per batch. */
  batch: Uint8Array;
  taskContext: Record<string, string>;
  /** Longest the engine waits for any one answer before it cancels. */
  answerTimeoutMs: number;
}

export type EngineOutcome = "finished" | "cancelled" | "failed" | "broken";

export interface EngineResult {
  outcome: EngineOutcome;
  rowsOut: number;
  detail: string;
}

/**
 * One Execute session the engine's way: Init, wait for InitResponse, data,
 * Finish, read to the terminator; after an ErrorResponse (or InitResponse
 * error) send Cancel; half-close only after the terminator. An answer that
 * takes longer than `answerTimeoutMs` gets a Cancel, and then the stream is
 * abandoned if even that is not answered.
 */
export async function runEngineSession(
  client: Client<typeof UdfWorker>,
  spec: EngineSessionSpec,
): Promise<EngineResult> {
  const driver = new ExecuteDriver(client);
  const next = async () => {
    try {
      return await driver.next(spec.answerTimeoutMs);
    } catch {
      driver.send(engineSays.cancel(`no answer within ${spec.answerTimeoutMs} ms`));
      return driver.next(spec.answerTimeoutMs);
    }
  };
  try {
    driver.send(
      engineSays.init({
        protocolVersion: 1,
        dataFormat: UDFWorkerDataFormat.ARROW,
        udf: {
          format: "stallwatch.demo.v1",
          payload: new TextEncoder().encode(JSON.stringify(spec.udf)),
          name: String(spec.udf.fn),
        },
        taskContext: spec.taskContext,
      }),
    );
    let answer = await next();
    let name = describeResponse(answer);
    let detail = "";
    if (name.startsWith("init-error")) {
      detail = name;
      driver.send(engineSays.cancel("init failed"));
    } else if (name === "init") {
      for (let i = 0; i < spec.batches; i++) driver.send(engineSays.data(spec.batch));
      driver.send(engineSays.finish());
    } else {
      driver.abort();
      return { outcome: "broken", rowsOut: 0, detail: `unexpected first answer: ${name}` };
    }
    let rowsOut = 0;
    for (;;) {
      answer = await next();
      name = describeResponse(answer);
      if (name === "data") rowsOut += 1;
      else if (name.startsWith("error")) {
        detail = name;
        driver.send(engineSays.cancel("error reported by the worker"));
      } else if (name === "finish" || name === "finish-error") {
        driver.end();
        return { outcome: name === "finish" ? "finished" : "failed", rowsOut, detail };
      } else if (name === "cancel") {
        driver.end();
        return { outcome: detail ? "failed" : "cancelled", rowsOut, detail };
      } else if (name === "end") {
        return {
          outcome: "broken",
          rowsOut,
          detail: "the worker ended the stream without a terminator",
        };
      }
    }
  } catch (err) {
    driver.abort();
    return { outcome: "broken", rowsOut: 0, detail: (err as Error).message };
  }
}
