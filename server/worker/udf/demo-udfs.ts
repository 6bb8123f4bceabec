import { makeVector, RecordBatch, Table, type Vector } from "apache-arrow";
import type { UdfSpec } from "./udf-spec.js";

/** What user code can ask of its host: whether to stop, and a cancellable sleep. */
export interface UdfContext {
  cancelled(): boolean;
  /** Sleeps in short slices; returns early (false) when cancelled. */
  sleep(ms: number): boolean;
  /** Blocks forever, like a read on a socket that never answers. */
  blockForever(): never;
}

/** An error raised by user code (reported as `UserError`). */
export class UserCodeError extends Error {
  constructor(
    message: string,
    readonly errorClass: string,
  ) {
    super(message);
    this.name = errorClass;
  }
}

/** Raised when user code noticed the cancel flag and stopped. */
export class CancelledByHost extends Error {
  override name = "CancelledByHost";
}

export interface Udf {
  init(ctx: UdfContext): void;
  /** Output batches for one input message's batches. */
  process(batches: RecordBatch[], ctx: UdfContext): RecordBatch[];
  /** Batches a generator emits before (without) input; one array per DataResponse. */
  generate(ctx: UdfContext): RecordBatch[][];
  finish(ctx: UdfContext): RecordBatch[];
}

const nothing = () => [];

function doubled(batch: RecordBatch): RecordBatch {
  const column = batch.getChild("x");
  if (!column) throw new UserCodeError('double needs an int64 column named "x"', "KeyError");
  const values = column.toArray() as unknown;
  let out: Vector;
  if (values instanceof BigInt64Array) {
    const result = new BigInt64Array(values.length);
    for (let i = 0; i < values.length; i++) result[i] = (values[i] ?? 0n) * 2n;
    out = makeVector(result);
  } else if (values instanceof Int32Array || values instanceof Float64Array) {
    const result = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) result[i] = (values[i] ?? 0) * 2;
    out = makeVector(result);
  } else {
    throw new UserCodeError(
      `double needs a numeric column "x", got ${String(column.type)}`,
      "TypeError",
    );
  }
  const table = new Table({ x: out });
  return table.batches[0] ?? batch;
}

function generated(rows: number, offset: number): RecordBatch {
  const x = new BigInt64Array(rows);
  for (let i = 0; i < rows; i++) x[i] = BigInt(offset + i);
  const table = new Table({ x: makeVector(x) });
  const batch = table.batches[0];
  if (!batch) throw new Error("empty generated table");
  return batch;
}

/** The demo catalogue (README in this folder describes each). */
export function createDemoUdf(spec: UdfSpec): Udf {
  const p = spec.params;
  const base: Udf = {
    init: () => undefined,
    process: (b) => b,
    generate: nothing,
    finish: nothing,
  };
  switch (spec.fn) {
    case "echo":
      return base;
    case "double":
      return { ...base, process: (batches) => batches.map(doubled) };
    case "slow":
      return {
        ...base,
        process(batches, ctx) {
          if (!ctx.sleep(p.msPerBatch ?? 200))
            throw new CancelledByHost("cancelled while sleeping");
          return batches;
        },
      };
    case "hang":
      // Never returns and never looks at the cancel flag: only terminating
      // the thread ends it (the stuck-in-recv_into story).
      return {
        ...base,
        process: (batches, ctx) => (batches.length >= 0 ? ctx.blockForever() : batches),
      };
    case "spin":
      return {
        ...base,
        process(batches, ctx) {
          const until = p.msPerBatch === undefined ? Infinity : Date.now() + p.msPerBatch;
          let acc = 0;
          while (Date.now() < until) {
            for (let i = 0; i < 100_000; i++) acc = (acc + i * 31) % 1_000_003;
            if (ctx.cancelled()) throw new CancelledByHost(`cancelled while spinning (acc ${acc})`);
          }
          return batches;
        },
      };
    case "fail": {
      let seen = 0;
      return {
        ...base,
        process(batches) {
          seen += 1;
          if (seen > (p.afterBatches ?? 0)) {
            throw new UserCodeError(
              spec.text.message ?? `failing after ${seen - 1} batches, as asked`,
              spec.text.errorClass ?? "ValueError",
            );
          }
          return batches;
        },
      };
    }
    case "failInit":
      return {
        ...base,
        init() {
          throw new UserCodeError(
            spec.text.message ?? "init failed, as asked",
            spec.text.errorClass ?? "RuntimeError",
          );
        },
      };
    case "generate":
      return {
        ...base,
        generate(ctx) {
          const count = Math.min(p.batches ?? 3, 10_000);
          const rows = Math.min(p.rows ?? 100, 1_000_000);
          const out: RecordBatch[][] = [];
          for (let i = 0; i < count && !ctx.cancelled(); i++) out.push([generated(rows, i * rows)]);
          return out;
        },
      };
    case "sink":
      return { ...base, process: () => [] };
  }
}
