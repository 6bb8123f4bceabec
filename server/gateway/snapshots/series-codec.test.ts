import { create, equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  SeriesSchema,
  WorkerDetailSchema,
  type WorkerDetail,
} from "../../../gen/stallwatch/v1/fleet_pb.js";
import { encodeSeries, encodeWorkerDetail } from "./series-codec.js";

const roundTrip = (d: WorkerDetail) => fromBinary(WorkerDetailSchema, encodeWorkerDetail(d));

describe("series codec", () => {
  it("packs series exactly as the generic writer does", () => {
    const now = BigInt(Date.now());
    for (const series of [
      { timesMs: [], values: [] },
      { timesMs: [0n, 1n, 127n, 128n, 16_384n, now, BigInt(Number.MAX_SAFE_INTEGER)] },
      { values: [0, -0, 1.5, -2.25, Number.NaN, Infinity, -Infinity, Number.MIN_VALUE] },
      { timesMs: [now, now + 1000n], values: [0.42, 17] },
    ]) {
      const message = create(SeriesSchema, series);
      expect(Buffer.from(encodeSeries(message))).toEqual(
        Buffer.from(toBinary(SeriesSchema, message)),
      );
    }
  });

  it("falls back to the generic writer for times it cannot pack as safe integers", () => {
    for (const timesMs of [[-5n, 3n], [BigInt(Number.MAX_SAFE_INTEGER) + 2n]]) {
      const message = create(SeriesSchema, { timesMs, values: [1] });
      expect(equals(SeriesSchema, fromBinary(SeriesSchema, encodeSeries(message)), message)).toBe(
        true,
      );
    }
  });

  it("round-trips whole details, with and without series", () => {
    const full = create(WorkerDetailSchema, {
      worker: { id: "w-1", address: "127.0.0.1:1", metrics: { uptime_ms: "9" } },
      roundTripsMs: { timesMs: [1n, 2n], values: [0.5, 0.75] },
      metrics: [
        { name: "uptime_ms", series: { timesMs: [1n], values: [9] } },
        { name: "", series: { timesMs: [], values: [] } },
        { name: "no_series" },
        { name: "ünïcode", series: { timesMs: [3n], values: [-1] } },
      ],
      sessions: [{ workerId: "w-1", stalled: true }],
      events: [{ id: "e-1", workerId: "w-1", kind: "liveness" }],
    });
    expect(equals(WorkerDetailSchema, roundTrip(full), full)).toBe(true);
    const bare = create(WorkerDetailSchema, { worker: { id: "w-2" } });
    expect(equals(WorkerDetailSchema, roundTrip(bare), bare)).toBe(true);
    expect(roundTrip(bare).roundTripsMs).toBeUndefined();
    const emptySeries = create(WorkerDetailSchema, { roundTripsMs: {} });
    expect(roundTrip(emptySeries).roundTripsMs).toBeDefined();
  });
});
