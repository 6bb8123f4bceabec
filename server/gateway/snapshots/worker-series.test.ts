import { describe, expect, it } from "vitest";
import { SampleRing } from "../fleet/sample-ring.js";
import { ByteWriter } from "./series-pack.js";
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

  it("rejects unknown versions, trailing bytes, bad names and counts over the cap", () => {
    const out = new ByteWriter();
    packWorkerSeries(out, { roundTrips: ringOf([1]), metricSeries: new Map() }, NOW);
    const good = out.copy();
    expect(() => unpackWorkerSeries(Uint8Array.of(9, ...good.subarray(1)))).toThrow(/version/);
    expect(() => unpackWorkerSeries(Uint8Array.of(...good, 0))).toThrow(/trailing/);
    const tooMany = Uint8Array.of(...good.subarray(0, good.length - 1), 0xe8, 0x0f);
    expect(() => unpackWorkerSeries(tooMany)).toThrow(/too many metrics/);
    const badName = Uint8Array.of(...good.subarray(0, good.length - 1), 1, 1, 0xff);
    expect(() => unpackWorkerSeries(badName)).toThrow();
  });
});
