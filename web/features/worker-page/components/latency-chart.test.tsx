// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { BeatMissesSchema, SeriesSchema } from "../../../../gen/stallwatch/v1/fleet_pb";
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach } from "vitest";
import { LatencyChart, LatencyLegend, shapeLatency } from "./latency-chart";

afterEach(cleanup);

describe("shapeLatency", () => {
  it("computes rolling p50/p99 and, without the gateway's record (an older snapshot), infers misses from gaps", () => {
    const series = create(SeriesSchema, {
      timesMs: [1000n, 2000n, 3000n, 7000n],
      values: [1, 3, 2, 10],
    });
    const { points, missed } = shapeLatency(series, undefined, 1000);
    expect(points.map((p) => p.p50)).toEqual([1, 1, 2, 2]);
    expect(points.at(-1)?.p99).toBe(10);
    expect(missed).toEqual([4000, 5000, 6000]);
  });

  it("marks the gateway's recorded misses only: a gap is not a miss (an unrecorded first beat, another interval)", () => {
    const series = create(SeriesSchema, { timesMs: [1000n, 6000n, 11000n], values: [1, 2, 3] });
    const misses = create(BeatMissesSchema, { timesMs: [12000n, 17000n] });
    expect(shapeLatency(series, misses).missed).toEqual([12000, 17000]);
    expect(shapeLatency(series, create(BeatMissesSchema)).missed).toEqual([]);
  });

  it("keeps the newest 200 marks", () => {
    const misses = create(BeatMissesSchema, {
      timesMs: Array.from({ length: 500 }, (_, i) => BigInt(i * 1000)),
    });
    const { missed } = shapeLatency(undefined, misses);
    expect(missed).toHaveLength(200);
    expect(missed.at(-1)).toBe(499_000);
  });

  it("is empty without samples", () => {
    expect(shapeLatency(undefined)).toEqual({ points: [], missed: [] });
  });
});

describe("LatencyLegend (issue 11, bug 9)", () => {
  it("names the p50 and p99 lines and the missed-beat marks", () => {
    render(<LatencyLegend missed={3} />);
    const items = screen.getAllByRole("listitem").map((li) => li.textContent);
    expect(items).toEqual([
      "round trip",
      "p50 (rolling, last 30 beats)",
      "p99 (rolling, last 30 beats)",
      "missed beat (3)",
    ]);
  });
});

describe("LatencyChart", () => {
  it("says when no beat was answered in the window, with the misses, rather than an empty chart", () => {
    const at = new Date(2026, 0, 1, 12, 0, 5).getTime();
    render(
      <LatencyChart
        series={create(SeriesSchema)}
        misses={create(BeatMissesSchema, { timesMs: [BigInt(at - 1000), BigInt(at)] })}
      />,
    );
    expect(
      screen.getByText(/No heartbeat answered in this window: 2 missed, the last at 12:00:05/),
    ).toBeTruthy();
  });
});
