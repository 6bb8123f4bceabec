// Snapshot phases in one process (issue 13), printed, never asserted: a
// fleet of 5,000 workers with 20 s and with 15 min of history, and where a
// snapshot's time goes: create (capture + encode + gzip, as the service does
// it), its phases, reads, and the longest stretch the event loop was blocked. probe-latency.bench.ts measures the same end to end
// against a gateway probing real workers.
import { loadavg } from "node:os";
import { EventLog } from "../server/gateway/events/event-log.js";
import { Fleet } from "../server/gateway/fleet/fleet.js";
import { captureSnapshot } from "../server/gateway/snapshots/build-snapshot.js";
import { decodeSnapshotView, encodeSnapshot } from "../server/gateway/snapshots/snapshot-codec.js";
import type { StatusCollector } from "../server/gateway/status-intake/status-collector.js";
import { table } from "./harness.js";
import { systemClock } from "../server/shared/clock/clock.js";

const WORKERS = 5000;

function fleetWith(seconds: number, nowMs: number): { fleet: Fleet; events: EventLog } {
  const fleet = new Fleet({ clock: systemClock });
  const events = new EventLog(systemClock, 5000);
  for (let i = 0; i < WORKERS; i++) {
    const w = fleet.enroll(`w-${i}`, "spark", `127.0.0.1:${20000 + i}`);
    for (let s = seconds; s > 0; s--) {
      const at = nowMs - s * 1000;
      fleet.beatAnswered(w, at, {
        rttMs: 0.5 + (s % 7) / 10,
        metrics: { active_sessions: "0", uptime_ms: String(at) },
      });
    }
  }
  for (let i = 0; i < 5000; i++)
    events.record({ workerId: `w-${i % WORKERS}`, kind: "liveness", summary: "healthy" });
  return { fleet, events };
}

const collector = { stalledSessions: () => [] } as unknown as StatusCollector;

/** Wall time of `fn`, and the longest the event loop went without running a timer meanwhile. */
async function timed<T>(fn: () => Promise<T> | T): Promise<[T, number, number]> {
  let last = performance.now();
  let longest = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  await new Promise((r) => setTimeout(r, 5));
  const t0 = performance.now();
  last = t0;
  longest = 0;
  const out = await fn();
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 2));
  clearInterval(tick);
  return [out, ms, longest];
}

const rows: Record<string, string>[] = [];
/** `BENCH_HISTORY=20` runs one history length (seconds). */
const histories = process.env.BENCH_HISTORY ? [Number(process.env.BENCH_HISTORY)] : [20, 900];
for (const seconds of histories) {
  const nowMs = Date.now();
  const { fleet, events } = fleetWith(seconds, nowMs);
  const scope = { id: "x", createdBy: "b", workerId: "", note: "", retentionMs: 1, nowMs };
  for (let round = 0; round < 3; round++) {
    // Create as the service does it: capture (state in one pass, series packed in slices), then encode + gzip.
    const cpu0 = process.cpuUsage();
    const [[{ snapshot, series }, body], createMs, createBlock] = await timed(async () => {
      const captured = await captureSnapshot(scope, fleet, events, collector, []);
      return [captured, await encodeSnapshot(captured.snapshot, captured.series)] as const;
    });
    const cpu = process.cpuUsage(cpu0);
    const [, captureMs, captureBlock] = await timed(() =>
      captureSnapshot(scope, fleet, events, collector, []),
    );
    const [, encodeMs, encodeBlock] = await timed(() => encodeSnapshot(snapshot, series));
    const [, getMs, getBlock] = await timed(() => decodeSnapshotView(body, {}));
    const [, summaryMs, summaryBlock] = await timed(() =>
      decodeSnapshotView(body, { summary: true }),
    );
    const [, oneMs, oneBlock] = await timed(() => decodeSnapshotView(body, { workerId: "w-7" }));
    if (round === 0) continue; // warm-up
    rows.push({
      history: `${seconds} s`,
      create: `${createMs.toFixed(0)} ms (longest block ${createBlock.toFixed(0)} ms)`,
      // Process CPU (main thread and gzip's pool thread): unlike wall time, not moved by the load.
      "create CPU": `${((cpu.user + cpu.system) / 1000).toFixed(0)} ms`,
      "capture / encode+gzip": `${captureMs.toFixed(0)} / ${encodeMs.toFixed(0)} ms (blocks ${captureBlock.toFixed(0)} / ${encodeBlock.toFixed(0)} ms)`,
      "get all / summary / one worker": `${getMs.toFixed(0)} / ${summaryMs.toFixed(0)} / ${oneMs.toFixed(0)} ms`,
      "get blocks": `${getBlock.toFixed(0)} / ${summaryBlock.toFixed(0)} / ${oneBlock.toFixed(0)} ms`,
      size: `${(body.length / 1024).toFixed(0)} KiB`,
    });
  }
}
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
table(rows);
process.exit(0);
