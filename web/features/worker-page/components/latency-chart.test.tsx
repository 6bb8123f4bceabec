// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { SeriesSchema } from "../../../../gen/stallwatch/v1/fleet_pb";
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach } from "vitest";
import { LatencyLegend, shapeLatency } from "./latency-chart";

afterEach(cleanup);

describe("shapeLatency", () => {
  it("computes rolling p50/p99 and marks the beats missing between samples", () => {
    const series = create(SeriesSchema, {
      timesMs: [1000n, 2000n, 3000n, 7000n],
      values: [1, 3, 2, 10],
    });
    const { points, missed } = shapeLatency(series, 1000);
    expect(points.map((p) => p.p50)).toEqual([1, 1, 2, 2]);
    expect(points.at(-1)?.p99).toBe(10);
    expect(missed).toEqual([4000, 5000, 6000]);
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
