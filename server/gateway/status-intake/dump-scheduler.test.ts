import { describe, expect, it } from "vitest";
import { DumpBudget, type DumpTarget } from "./dump-scheduler.js";

const fleet = (n: number, watched = 0): DumpTarget[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `w${i}`,
    watchers: i < watched ? 1 : 0,
    nextDumpAtMs: 0,
  }));

/** Drives the budget for `seconds` in 250 ms ticks; returns dumps per worker. */
function run(budget: DumpBudget, targets: DumpTarget[], seconds: number): Map<string, number[]> {
  const at = new Map<string, number[]>();
  for (let now = 0; now < seconds * 1000; now += 250)
    for (const t of budget.pick(targets, now, 250)) at.set(t.id, [...(at.get(t.id) ?? []), now]);
  return at;
}

const opts = {
  intervalMs: 10_000,
  watchedIntervalMs: 2_000,
  minPerSecond: 50,
  maxPerSecond: 1_000,
};

describe("DumpBudget", () => {
  it("keeps every worker at its 10 s cadence at 5,000 workers, and a watched one at 2 s", () => {
    const targets = fleet(5_000, 1);
    const budget = new DumpBudget(opts);
    const at = run(budget, targets, 120);
    const gaps = (id: string) => {
      const t = at.get(id) ?? [];
      return t.slice(1).map((x, i) => x - (t[i] ?? 0));
    };
    // After the first minute, when the initial burst is spread.
    expect(Math.max(...gaps("w0").slice(5))).toBeLessThanOrEqual(2_250);
    const worst = Math.max(...targets.slice(1).flatMap((t) => gaps(t.id).slice(-3)));
    expect(worst).toBeLessThanOrEqual(10_500);
    expect(budget.perSecond).toBeGreaterThan(600);
  });

  it("stretches everyone evenly when the ceiling binds, never starving anyone", () => {
    const targets = fleet(5_000, 2);
    const budget = new DumpBudget({ ...opts, maxPerSecond: 100 });
    const at = run(budget, targets, 200);
    expect(Math.min(...targets.map((t) => (at.get(t.id) ?? []).length))).toBeGreaterThanOrEqual(3);
    expect((at.get("w0") ?? []).length).toBeGreaterThanOrEqual(90);
  });

  it("never drops below the floor for a small fleet", () => {
    const budget = new DumpBudget(opts);
    budget.pick(fleet(3), 0, 250);
    expect(budget.perSecond).toBe(50);
  });
});
