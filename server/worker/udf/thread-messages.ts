import type { UdfSpec } from "./udf-spec.js";

/** Main thread → UDF thread. */
export type ToUdfThread =
  | { type: "init"; spec: UdfSpec; inputSchema: Uint8Array | undefined }
  | { type: "batch"; seq: number; data: Uint8Array }
  | { type: "generate" }
  | { type: "finish" };

/** Work figures measured inside the UDF thread for one call. */
export interface WorkFigures {
  workNs: number;
  cpuNs: number;
}

/** UDF thread → main thread. */
export type FromUdfThread =
  /** Sent once at start: the thread's Linux tid, for its CPU time (profiles' CPU mode). */
  | { type: "osThread"; tid: number }
  | ({ type: "initDone" } & WorkFigures)
  | ({
      type: "output";
      seq: number;
      /** One Arrow IPC stream, or null when the UDF emitted nothing. */
      data: Uint8Array | null;
      rowsIn: number;
      batchesIn: number;
      rowsOut: number;
      batchesOut: number;
    } & WorkFigures)
  | { type: "generated"; data: Uint8Array; rowsOut: number; batchesOut: number }
  | ({ type: "generateDone" } & WorkFigures)
  | ({
      type: "finishDone";
      data: Uint8Array | null;
      rowsOut: number;
      batchesOut: number;
    } & WorkFigures)
  | {
      type: "error";
      /** user: raised by user code; cancelled: user code yielded to the flag; data: undecodable input. */
      kind: "user" | "cancelled" | "data";
      message: string;
      errorClass: string;
      traceback: string;
    };

/** Index of the cancel flag in the shared Int32Array. */
export const CANCEL_FLAG = 0;
/** Index of a slot that is never notified: `hang` waits on it forever. */
export const NEVER_SLOT = 1;
