import { describe, expect, it } from "vitest";
import { SampleRing } from "../fleet/sample-ring.js";
import {
  ByteReader,
  ByteWriter,
  packSeries,
  unpackSeries,
  type Resolution,
  type SampleSource,
} from "./series-pack.js";

const NOW = 1_700_000_000_000;
const RES: Resolution = { windowMs: 15 * 60_000, stepMs: 5_000, rawMs: 60_000 };

function ring(samples: [number, number][], capacity = 900): SampleRing {
  const r = new SampleRing(capacity);
  for (const [t, v] of samples) r.push(t, v);
  return r;
}

/** One sample a second over the last `seconds`, values from `value(i)`. */
const perSecond = (seconds: number, value: (i: number) => number): [number, number][] =>
  Array.from({ length: seconds }, (_, i) => [NOW - (seconds - 1 - i) * 1000, value(i)]);

function roundTrip(source: SampleSource, res = RES) {
  const out = new ByteWriter();
  packSeries(out, source, NOW, res);
  const bytes = out.copy();
  const r = new ByteReader(bytes);
  const points = unpackSeries(r);
  expect(r.done).toBe(true);
  return { ...points, times: points.timesMs.map(Number), bytes };
}

describe("packed series", () => {
  it("keeps the last minute raw, exact for integers, and one min/max pair per 5 s bucket before it", () => {
    const { times, values, bytes } = roundTrip(ring(perSecond(900, (i) => NOW + i * 1000)));
    const tail = times.filter((t) => t >= NOW - 60_000);
    expect(tail).toEqual(
      perSecond(900, () => 0)
        .slice(-tail.length)
        .map(([t]) => t),
    );
    expect(values.at(-1)).toBe(NOW + 899 * 1000); // uptime-like: exact
    // 14 minutes of 5 s buckets, two points each, then the raw minute.
    expect(times.length).toBe(168 * 2 + tail.length);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(bytes.length).toBeLessThan(1200);
  });

  it("keeps a one-sample spike and a dip inside a bucket", () => {
    const { values } = roundTrip(
      ring(perSecond(900, (i) => (i === 100 ? 950.5 : i === 300 ? -3.25 : 0.5 + (i % 3) / 10))),
    );
    expect(values).toContain(950.5);
    expect(values).toContain(-3.25);
    expect(Math.max(...values)).toBe(950.5);
  });

  it("orders a bucket's extremes as they happened", () => {
    const samples: [number, number][] = [
      [NOW - 600_000, 9],
      [NOW - 599_000, 1],
    ];
    const { values, times } = roundTrip(ring(samples));
    expect(values).toEqual([9, 1]);
    expect(times[0]).toBeLessThan(times[1] ?? 0);
  });

  it("keeps fractional values to float32 precision", () => {
    const { values } = roundTrip(ring(perSecond(30, (i) => 0.1 * i + 0.123456)));
    values.forEach((v, i) => expect(v).toBeCloseTo(0.1 * i + 0.123456, 5));
  });

  it("packs an empty series and leaves out samples outside the window", () => {
    expect(roundTrip(ring([])).values).toEqual([]);
    const out = roundTrip(
      ring([
        [NOW - 20 * 60_000, 5],
        [NOW + 1, 6],
        [NOW - 1000, 7],
      ]),
    );
    expect(out.values).toEqual([7]);
    expect(out.times).toEqual([NOW - 1000]);
  });

  it("survives NaN and Infinity: NaN left out of buckets, kept in the raw minute", () => {
    const samples = perSecond(900, (i) =>
      i === 10
        ? Number.NaN
        : i === 20
          ? Infinity
          : i === 30
            ? -Infinity
            : i >= 890
              ? Number.NaN
              : 1,
    );
    const { values } = roundTrip(ring(samples));
    expect(values).toContain(Infinity);
    expect(values).toContain(-Infinity);
    expect(values.slice(-10).every(Number.isNaN)).toBe(true);
    expect(values.slice(0, -10).some(Number.isNaN)).toBe(false);
    // A bucket of only NaN is empty.
    const allNaN = roundTrip(ring([[NOW - 600_000, Number.NaN]]));
    expect(allNaN.values).toEqual([]);
  });

  it("keeps huge and negative integers exact, and falls back to float32 past 2^50", () => {
    const exact = roundTrip(ring(perSecond(10, (i) => (i % 2 ? -(2 ** 49) : 2 ** 49 - i))));
    expect(exact.values).toEqual(
      perSecond(10, (i) => (i % 2 ? -(2 ** 49) : 2 ** 49 - i)).map(([, v]) => v),
    );
    const big = roundTrip(ring([[NOW - 1000, 2 ** 60]]));
    expect(big.values).toEqual([2 ** 60]); // a power of two fits float32 exactly
  });

  it("rejects truncated, oversized and garbage input with an error, never a hang", () => {
    const out = new ByteWriter();
    packSeries(out, ring(perSecond(900, (i) => i)), NOW, RES);
    const bytes = out.copy();
    for (let cut = 0; cut < bytes.length; cut += 37) {
      expect(() => unpackSeries(new ByteReader(bytes.subarray(0, cut)))).toThrow(/packed series/);
    }
    const huge = new ByteWriter();
    huge.u8(0);
    huge.varint(5000);
    huge.zigzag(0);
    huge.varint(2 ** 40);
    expect(() => unpackSeries(new ByteReader(huge.copy()))).toThrow(/too many buckets/);
    const badBucket = new ByteWriter();
    [0, 1, 0, 1, 7].forEach((b) => badBucket.u8(b));
    expect(() => unpackSeries(new ByteReader(badBucket.copy()))).toThrow(/bad bucket/);
    expect(() => new ByteReader(new Uint8Array(12).fill(255)).varint()).toThrow(/too long/);
  });

  it("reads a ring that wrapped around, oldest first", () => {
    const r = ring(
      perSecond(100, (i) => i),
      40,
    );
    const { values } = roundTrip(r);
    expect(values).toEqual(Array.from({ length: 40 }, (_, i) => 60 + i));
  });
});
