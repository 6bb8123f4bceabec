import { describe, expect, it } from "vitest";
import { SampleRing } from "../fleet/sample-ring.js";
import { ByteWriter, packSeries } from "./series-pack.js";
import { packWorkerSeries, unpackWorkerSeries } from "./worker-series.js";

const NOW = 1_700_000_000_000;

function ringOf(values: number[]): SampleRing {
  const r = new SampleRing(900);
  values.forEach((v, i) => r.push(NOW - (values.length - 1 - i) * 1000, v));
  return r;
}

describe("worker series blob", () => {
  it("round-trips round trips and named metrics, empty ones included", () => {
    const out = new ByteWriter();
    packWorkerSeries(
      out,
      {
        roundTrips: ringOf([0.5, 0.75]),
        metricSeries: new Map([
          ["uptime_ms", ringOf([1000, 2000, 3000])],
          ["ünïcode", ringOf([])],
        ]),
      },
      NOW,
    );
    const back = unpackWorkerSeries(out.copy());
    expect(back.roundTripsMs.values).toEqual([0.5, 0.75]);
    expect(back.roundTripsMs.timesMs).toEqual([BigInt(NOW - 1000), BigInt(NOW)]);
    expect(back.metrics.map((m) => m.name)).toEqual(["uptime_ms", "ünïcode"]);
    expect(back.metrics[0]?.series?.values).toEqual([1000, 2000, 3000]);
    expect(back.metrics[1]?.series?.values).toEqual([]);
  });

  it("keeps missed beats at their own times, only those in the window, and none when there were none", () => {
    const misses = new SampleRing(900);
    // One older than the 15-minute window, then three inside it.
    for (const ago of [16 * 60_000, 90_000, 3_000, 1_000]) misses.push(NOW - ago, 1);
    const out = new ByteWriter();
    packWorkerSeries(
      out,
      { roundTrips: ringOf([1, 2]), metricSeries: new Map(), missedBeats: misses },
      NOW,
    );
    expect(unpackWorkerSeries(out.copy()).missedBeats?.timesMs).toEqual(
      [90_000, 3_000, 1_000].map((ago) => BigInt(NOW - ago)),
    );
    out.length = 0;
    packWorkerSeries(out, { roundTrips: ringOf([1]), metricSeries: new Map() }, NOW);
    expect(unpackWorkerSeries(out.copy()).missedBeats?.timesMs).toEqual([]);
  });

  it("still reads a version 1 blob (snapshots stored before misses were kept), without misses", () => {
    const v1 = new ByteWriter();
    v1.u8(1);
    packSeries(v1, ringOf([0.5, 0.75]), NOW);
    v1.varint(0);
    const back = unpackWorkerSeries(v1.copy());
    expect(back.roundTripsMs.values).toEqual([0.5, 0.75]);
    expect(back.missedBeats).toBeUndefined();
  });

  it("rejects unknown versions, trailing bytes, bad names and counts over the cap", () => {
    const out = new ByteWriter();
    packWorkerSeries(out, { roundTrips: ringOf([1]), metricSeries: new Map() }, NOW);
    const good = out.copy();
    expect(() => unpackWorkerSeries(Uint8Array.of(9, ...good.subarray(1)))).toThrow(/version/);
    expect(() => unpackWorkerSeries(Uint8Array.of(...good, 0))).toThrow(/trailing/);
    expect(() => unpackWorkerSeries(good.subarray(0, good.length - 1))).toThrow();
    const roundTrips = new ByteWriter();
    packSeries(roundTrips, ringOf([1]), NOW);
    const upToMetrics = [1, ...roundTrips.copy()];
    expect(() => unpackWorkerSeries(Uint8Array.of(...upToMetrics, 0, 0))).toThrow(/trailing/);
    expect(() => unpackWorkerSeries(Uint8Array.of(...upToMetrics, 0xe8, 0x0f))).toThrow(
      /too many metrics/,
    );
    expect(() => unpackWorkerSeries(Uint8Array.of(...upToMetrics, 1, 1, 0xff))).toThrow();
    // Version 2: window start 0, then a miss count over the cap.
    const v2 = [2, ...roundTrips.copy(), 0, 0];
    expect(() => unpackWorkerSeries(Uint8Array.of(...v2, 0x81, 0x89, 0x7a))).toThrow(
      /too many missed beats/,
    );
  });
});
