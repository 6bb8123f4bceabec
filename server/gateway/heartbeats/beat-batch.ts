import type { BeatRecord } from "./probe-shard.js";

/**
 * Beat records as they cross from a probe thread to the main thread: four
 * numbers per beat in one transferred Float64Array, plus the few records that
 * carry text (changed metrics, a failure's reason) beside it. Cloning one
 * object per beat cost more than the beat: at 1,000 workers and a 10 ms flush
 * the probe thread spent ~20 µs per beat in postMessage.
 */
export interface BeatBatch {
  /** [slot, atMs, rttMs, code] per record, in the order they happened. */
  numbers: Float64Array;
  /** Text of the records whose code points here (index + 1 in the code's high bits). */
  extras: Array<Pick<BeatRecord, "reason" | "metrics">>;
}

const FIELDS = 4;
const OUTCOMES: ReadonlyArray<BeatRecord["outcome"]> = [
  "ok",
  "timeout",
  "connection",
  "protocol",
  "status",
];
const OUTCOME_CODE = new Map(OUTCOMES.map((o, i) => [o, i]));
const FIRST_ON_CONNECTION = 8;
/** Codes above this point at an extra: code = low bits + (index + 1) × EXTRA. */
const EXTRA = 16;

/** Gathers a probe thread's records between two flushes. */
export class BeatBatchWriter {
  private numbers = new Float64Array(FIELDS * 256);
  private count = 0;
  private extras: BeatBatch["extras"] = [];

  push(record: BeatRecord): void {
    if ((this.count + 1) * FIELDS > this.numbers.length) {
      const grown = new Float64Array(this.numbers.length * 2);
      grown.set(this.numbers);
      this.numbers = grown;
    }
    let code =
      (OUTCOME_CODE.get(record.outcome) ?? 0) |
      (record.firstOnConnection ? FIRST_ON_CONNECTION : 0);
    if (record.reason !== "" || record.metrics !== undefined) {
      this.extras.push(
        record.metrics === undefined
          ? { reason: record.reason }
          : { reason: record.reason, metrics: record.metrics },
      );
      code += this.extras.length * EXTRA;
    }
    const at = this.count * FIELDS;
    this.numbers[at] = record.slot;
    this.numbers[at + 1] = record.atMs;
    this.numbers[at + 2] = record.rttMs;
    this.numbers[at + 3] = code;
    this.count += 1;
  }

  /** The batch so far (its numbers copied to a buffer of their own, to transfer), or undefined if empty. */
  take(): BeatBatch | undefined {
    if (this.count === 0) return undefined;
    const batch = { numbers: this.numbers.slice(0, this.count * FIELDS), extras: this.extras };
    this.count = 0;
    this.extras = [];
    return batch;
  }
}

/** Calls `onRecord` for every record of `batch`, in order. */
export function readBeatBatch(batch: BeatBatch, onRecord: (record: BeatRecord) => void): void {
  const { numbers, extras } = batch;
  for (let at = 0; at + FIELDS <= numbers.length; at += FIELDS) {
    const code = numbers[at + 3] ?? 0;
    const extra = Math.floor(code / EXTRA);
    const low = code % EXTRA;
    const text = extra > 0 ? extras[extra - 1] : undefined;
    const record: BeatRecord = {
      slot: numbers[at] ?? 0,
      atMs: numbers[at + 1] ?? 0,
      rttMs: numbers[at + 2] ?? 0,
      outcome: OUTCOMES[low & (FIRST_ON_CONNECTION - 1)] ?? "protocol",
      reason: text?.reason ?? "",
      firstOnConnection: (low & FIRST_ON_CONNECTION) !== 0,
    };
    if (text?.metrics !== undefined) record.metrics = text.metrics;
    onRecord(record);
  }
}
