/**
 * A snapshot's stored series: downsampled to what a chart can show and packed
 * in a few bytes per point. 15 minutes at 1 Hz is 900 samples per series, and
 * 5,000 workers with three series each is 13.5 M samples: as protobuf
 * `Series` (an int64 and a double per sample) that alone took seconds to
 * build and encode. The dashboard draws 15 minutes in a few hundred pixels.
 *
 * What a packed series keeps, for the window `[nowMs - windowMs, nowMs]`:
 * - before the last `rawMs`: fixed buckets of `stepMs`, each with its lowest
 *   and highest sample in the order they happened (so a spike survives);
 *   their times are dropped (read back at a quarter and three quarters of
 *   the bucket, or its middle for a bucket with one distinct extreme).
 *   NaN samples are left out of buckets (a bucket of only NaN is empty);
 * - the last `rawMs`: every sample with its time (ms).
 * Values: a series of safe integers (counters, sizes, uptimes) is exact
 * (varint deltas); any other series is kept as float32 (~7 significant
 * digits), NaN and ±Infinity included.
 *
 * Layout (varints are LEB128, "zz" zigzag):
 *   u8 flags (bit 0: integer values) · varint stepMs · zz startMs ·
 *   varint buckets · per bucket: u8 n (0-2) then n values ·
 *   varint tail · per tail sample: zz time delta (first from the end of the
 *   buckets) then its value.
 * Integer values are zz deltas from the previous value written (0 first).
 */

/** How the snapshot downsamples: see the module comment. */
export interface Resolution {
  windowMs: number;
  stepMs: number;
  rawMs: number;
}

export const SNAPSHOT_RESOLUTION: Resolution = {
  windowMs: 15 * 60_000,
  stepMs: 5_000,
  rawMs: 60_000,
};

/** Anything that can replay samples in a time range, oldest first (a SampleRing). */
export interface SampleSource {
  forEachBetween(
    fromMs: number,
    toMs: number,
    visit: (timeMs: number, value: number) => void,
  ): void;
}

const INTEGER = 1;
/** Integers whose deltas stay exact as doubles after zigzag. */
const MAX_EXACT = 2 ** 50;
/** Caps for a reader: a stored series never has more (15 min at 1 Hz is 900). */
const MAX_BUCKETS = 100_000;
const MAX_TAIL = 100_000;

/** A growable byte buffer; one is reused for a whole snapshot. */
export class ByteWriter {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(n: number): void {
    this.room(1);
    this.buf[this.length++] = n;
  }

  /** A non-negative safe integer. */
  varint(n: number): void {
    this.room(8);
    while (n >= 128) {
      this.buf[this.length++] = (n % 128) | 128;
      n = Math.floor(n / 128);
    }
    this.buf[this.length++] = n;
  }

  /** A safe integer of either sign. */
  zigzag(n: number): void {
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }

  f32(v: number): void {
    this.room(4);
    this.view.setFloat32(this.length, v, true);
    this.length += 4;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** A copy of what was written since `from`. */
  copy(from = 0): Uint8Array {
    return this.buf.slice(from, this.length);
  }
}

// Scratch for one series at a time: samples of the window, reused (no allocation per series).
let times = new Float64Array(1024);
let values = new Float64Array(1024);
let count = 0;
const collect = (t: number, v: number): void => {
  if (count === times.length) {
    const t2 = new Float64Array(count * 2);
    const v2 = new Float64Array(count * 2);
    t2.set(times);
    v2.set(values);
    times = t2;
    values = v2;
  }
  times[count] = t;
  values[count++] = v;
};

/** Appends `source`'s window, downsampled and packed, to `out`. */
export function packSeries(
  out: ByteWriter,
  source: SampleSource,
  nowMs: number,
  res: Resolution = SNAPSHOT_RESOLUTION,
): void {
  const startMs = Math.round(nowMs - res.windowMs);
  const rawFrom = nowMs - res.rawMs;
  const buckets = Math.max(0, Math.ceil((rawFrom - startMs) / res.stepMs));
  const tailFrom = startMs + buckets * res.stepMs;
  count = 0;
  source.forEachBetween(startMs, nowMs, collect);
  let integer = true;
  for (let i = 0; i < count && integer; i++) {
    const v = values[i] ?? 0;
    integer = Number.isSafeInteger(v) && Math.abs(v) <= MAX_EXACT;
  }
  let prev = 0;
  const value = integer
    ? (v: number) => {
        out.zigzag(v - prev);
        prev = v;
      }
    : (v: number) => out.f32(v);
  out.u8(integer ? INTEGER : 0);
  out.varint(res.stepMs);
  out.zigzag(startMs);
  out.varint(buckets);
  let i = 0;
  for (let b = 0; b < buckets; b++) {
    const end = startMs + (b + 1) * res.stepMs;
    let lo = -1;
    let hi = -1;
    for (; i < count && (times[i] ?? 0) < end; i++) {
      const v = values[i] ?? 0;
      if (Number.isNaN(v)) continue;
      if (lo < 0 || v < (values[lo] ?? 0)) lo = i;
      if (hi < 0 || v > (values[hi] ?? 0)) hi = i;
    }
    if (lo < 0) out.u8(0);
    else if (lo === hi) {
      out.u8(1);
      value(values[lo] ?? 0);
    } else {
      out.u8(2);
      value(values[Math.min(lo, hi)] ?? 0);
      value(values[Math.max(lo, hi)] ?? 0);
    }
  }
  // Samples before the first bucket's end were consumed; the rest form the tail.
  while (i < count && (times[i] ?? 0) < tailFrom) i++;
  out.varint(count - i);
  let prevT = tailFrom;
  for (; i < count; i++) {
    const t = Math.round(times[i] ?? 0);
    out.zigzag(t - prevT);
    prevT = t;
    value(values[i] ?? 0);
  }
}

/** A packed series read back as points: parallel arrays, oldest first. */
export interface Points {
  timesMs: bigint[];
  values: number[];
}

/** Reads packed bytes; throws on anything malformed (truncated, over the caps). */
export class ByteReader {
  pos = 0;
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  u8(): number {
    if (this.pos >= this.buf.length) throw new Error("packed series: truncated");
    return this.buf[this.pos++] ?? 0;
  }

  varint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      n += (b & 127) * scale;
      if (b < 128) return n;
      scale *= 128;
    }
    throw new Error("packed series: varint too long");
  }

  zigzag(): number {
    const n = this.varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  f32(): number {
    if (this.pos + 4 > this.buf.length) throw new Error("packed series: truncated");
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  bytes(n: number): Uint8Array {
    if (n > this.buf.length - this.pos) throw new Error("packed series: truncated");
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

/** Reads one packed series (as `packSeries` wrote it) into points. */
export function unpackSeries(r: ByteReader): Points {
  const integer = (r.u8() & INTEGER) !== 0;
  const stepMs = r.varint();
  const startMs = r.zigzag();
  const buckets = r.varint();
  if (buckets > MAX_BUCKETS) throw new Error("packed series: too many buckets");
  let prev = 0;
  const value = integer ? () => (prev += r.zigzag()) : () => r.f32();
  const timesMs: bigint[] = [];
  const values: number[] = [];
  const point = (t: number, v: number) => {
    timesMs.push(BigInt(Math.round(t)));
    values.push(v);
  };
  for (let b = 0; b < buckets; b++) {
    const at = startMs + b * stepMs;
    const n = r.u8();
    if (n === 1) point(at + stepMs / 2, value());
    else if (n === 2) {
      point(at + stepMs / 4, value());
      point(at + (3 * stepMs) / 4, value());
    } else if (n !== 0) throw new Error("packed series: bad bucket");
  }
  const tail = r.varint();
  if (tail > MAX_TAIL) throw new Error("packed series: too many samples");
  let t = startMs + buckets * stepMs;
  for (let i = 0; i < tail; i++) {
    t += r.zigzag();
    point(t, value());
  }
  return { timesMs, values };
}
