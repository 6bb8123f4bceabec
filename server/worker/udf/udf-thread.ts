/**
 * Entry point of a UDF worker thread: one per session. User code runs here,
 * off the main thread, so Manage and the agent answer while it spins or
 * blocks. The thread only ever talks to its session through messages and a
 * shared cancel flag.
 */
import { readFileSync, readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import type { RecordBatch } from "apache-arrow";
import { decodeBatches, encodeBatches } from "./arrow-batches.js";
import {
  CancelledByHost,
  createDemoUdf,
  UserCodeError,
  type Udf,
  type UdfContext,
} from "./demo-udfs.js";
import {
  CANCEL_FLAG,
  NEVER_SLOT,
  type FromUdfThread,
  type ToUdfThread,
  type WorkFigures,
} from "./thread-messages.js";

const port = parentPort;
if (!port) throw new Error("udf-thread must run as a worker thread");

/**
 * User code runs at a lower scheduling priority than the main thread (Linux
 * nice is per thread): with more spinning UDFs than cores, the event loop
 * serving Manage and the agent still gets the CPU first.
 */
function lowerOwnPriority(): void {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (tid > 0) port?.postMessage({ type: "osThread", tid } satisfies FromUdfThread);
    if (tid > 0) setPriority(tid, 10);
  } catch {
    // Not Linux, or not allowed: run at normal priority.
  }
}
lowerOwnPriority();
const shared = new Int32Array((workerData as { control: SharedArrayBuffer }).control);

/**
 * CPU time of this thread in ns, from Linux's per-thread accounting:
 * schedstat (ns) where the kernel keeps it, else utime+stime from
 * /proc/thread-self/stat (clock ticks, 10 ms). Node 20 has no per-thread CPU
 * API, and process.cpuUsage() would count every thread of the worker.
 */
function threadCpuNs(): number {
  try {
    const ns = Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]);
    if (ns > 0) return ns;
    const stat = readFileSync("/proc/thread-self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10_000_000;
  } catch {
    return 0;
  }
}

const ctx: UdfContext = {
  cancelled: () => Atomics.load(shared, CANCEL_FLAG) !== 0,
  sleep(ms) {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      // Wakes early when the host sets the cancel flag (it notifies the slot).
      Atomics.wait(shared, CANCEL_FLAG, 0, Math.min(50, until - Date.now()));
      if (ctx.cancelled()) return false;
    }
    return true;
  },
  blockForever() {
    for (;;) Atomics.wait(shared, NEVER_SLOT, 0);
  },
};

let udf: Udf | undefined;
let inputSchema: Uint8Array | undefined;

function measured<T>(fn: () => T): { value: T } & WorkFigures {
  const wall0 = process.hrtime.bigint();
  const cpu0 = threadCpuNs();
  const value = fn();
  return {
    value,
    workNs: Number(process.hrtime.bigint() - wall0),
    cpuNs: Math.max(0, threadCpuNs() - cpu0),
  };
}

function send(message: FromUdfThread, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

function sendError(err: unknown, fallbackKind: "user" | "data" = "user"): void {
  const e = err instanceof Error ? err : new Error(String(err));
  send({
    type: "error",
    kind:
      err instanceof CancelledByHost
        ? "cancelled"
        : err instanceof UserCodeError
          ? "user"
          : fallbackKind,
    message: e.message,
    errorClass: err instanceof UserCodeError ? err.errorClass : e.name,
    traceback: e.stack ?? "",
  });
}

function rows(batches: RecordBatch[]): number {
  return batches.reduce((n, b) => n + b.numRows, 0);
}

/** What user code emitted, as a message carries it: one Arrow IPC stream (null when nothing), counted. */
function emitted(batches: RecordBatch[]): {
  out: { data: Uint8Array | null; rowsOut: number; batchesOut: number };
  transfer: ArrayBuffer[];
} {
  const counts = { rowsOut: rows(batches), batchesOut: batches.length };
  if (batches.length === 0) return { out: { data: null, ...counts }, transfer: [] };
  const data = encodeBatches(batches);
  return { out: { data, ...counts }, transfer: [data.buffer as ArrayBuffer] };
}

/** Runs one call into the session's user code; whatever it raises goes back as an error. */
function withUdf(call: (current: Udf) => void): void {
  if (!udf) return;
  try {
    call(udf);
  } catch (err) {
    sendError(err);
  }
}

function decodeInput(data: Uint8Array): RecordBatch[] | undefined {
  try {
    return decodeBatches(data, inputSchema);
  } catch (err) {
    sendError(new Error(`DataRequest is not valid Arrow IPC: ${(err as Error).message}`), "data");
    return undefined;
  }
}

port.on("message", (message: ToUdfThread) => {
  switch (message.type) {
    case "init":
      try {
        inputSchema = message.inputSchema;
        const created = createDemoUdf(message.spec);
        const m = measured(() => created.init(ctx));
        udf = created;
        send({ type: "initDone", workNs: m.workNs, cpuNs: m.cpuNs });
      } catch (err) {
        sendError(err);
      }
      return;
    case "batch": {
      if (!udf) return;
      const input = decodeInput(message.data);
      if (!input) return;
      withUdf((current) => {
        const m = measured(() => current.process(input, ctx));
        const { out, transfer } = emitted(m.value);
        const rowsIn = rows(input);
        send(
          {
            type: "output",
            seq: message.seq,
            ...out,
            rowsIn,
            batchesIn: input.length,
            workNs: m.workNs,
            cpuNs: m.cpuNs,
          },
          transfer,
        );
      });
      return;
    }
    case "generate":
      withUdf((current) => {
        const m = measured(() => {
          for (const batches of current.generate(ctx)) {
            const { out, transfer } = emitted(batches);
            if (out.data) send({ type: "generated", ...out, data: out.data }, transfer);
          }
        });
        send({ type: "generateDone", workNs: m.workNs, cpuNs: m.cpuNs });
      });
      return;
    case "finish":
      withUdf((current) => {
        const m = measured(() => current.finish(ctx));
        const { out, transfer } = emitted(m.value);
        send({ type: "finishDone", ...out, workNs: m.workNs, cpuNs: m.cpuNs }, transfer);
      });
  }
});
