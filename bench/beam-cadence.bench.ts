// Dump cadence achieved by the real scheduler (DumpBudget, what the status
// collector runs every 250 ms) at 1,000 and 5,000 Beam harnesses, with and
// without one worker watched. Simulated clock, 10 minutes. Printed, never
// asserted. Target: a watched worker keeps the live view's 2 s; nobody waits
// more than 60 s (default 10 s cadence).
import { DumpBudget, type DumpTarget } from "../server/gateway/status-intake/dump-scheduler.js";

const max = (xs: number[]) => xs.reduce((m, x) => Math.max(m, x), 0);

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

function simulate(n: number, watched: number, maxPerSecond: number) {
  const targets: DumpTarget[] = Array.from({ length: n }, (_, i) => ({
    id: `w${i}`,
    watchers: i < watched ? 1 : 0,
    nextDumpAtMs: 0,
  }));
  const budget = new DumpBudget({
    intervalMs: 10_000,
    watchedIntervalMs: 2_000,
    minPerSecond: 50,
    maxPerSecond,
  });
  const last = new Map<string, number>();
  const gaps: number[] = [];
  const watchedGaps: number[] = [];
  const end = 600_000;
  for (let now = 0; now < end; now += 250) {
    for (const t of budget.pick(targets, now, 250)) {
      const prev = last.get(t.id);
      // Skip the first two minutes: the start-up burst is spread over them.
      if (prev !== undefined && now > 120_000)
        (t.watchers > 0 ? watchedGaps : gaps).push(now - prev);
      last.set(t.id, now);
    }
  }
  return { gaps, watchedGaps, perSecond: budget.perSecond };
}

console.log(
  "workers  watched  ceiling/s  budget/s  unwatched p50 / p99 / max s   watched p50 / max s",
);
for (const n of [1_000, 5_000]) {
  for (const watched of [0, 1]) {
    for (const ceiling of [500, 200]) {
      const r = simulate(n, watched, ceiling);
      const s = (ms: number) => (ms / 1000).toFixed(1);
      console.log(
        `${String(n).padStart(7)} ${String(watched).padStart(8)} ${String(ceiling).padStart(10)} ${r.perSecond.toFixed(0).padStart(9)}   ${s(percentile(r.gaps, 50)).padStart(6)} / ${s(percentile(r.gaps, 99)).padStart(5)} / ${s(max(r.gaps)).padStart(5)}          ${watched ? `${s(percentile(r.watchedGaps, 50))} / ${s(max(r.watchedGaps))}` : "-"}`,
      );
    }
  }
}
console.log("(the old fixed 50 dumps/s cap: N/50 s per worker, 20 s at 1,000 and 100 s at 5,000)");
