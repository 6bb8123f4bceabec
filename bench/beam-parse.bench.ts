// Beam status parsing: time and memory per dump for each SDK format at 100,
// 1,000 and 5,000 threads (target: linear, < 20 ms per 1,000 threads), and
// parse time per MiB on typical vs worst-case text (target: worst <= 2x).
// Printed, never asserted.
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import {
  formatHarnessStatus,
  type BeamSdkFormat,
  type HarnessStatus,
} from "../server/worker/beam-client/sdk-formats.js";
import { parseBeamStatus } from "../server/gateway/beam-text/status-text.js";
import { createRedactor } from "../server/gateway/redaction/redact.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** A harness with `n` threads: a tenth busy in user code (distinct stacks), the rest parked in pools. */
function harness(n: number): HarnessStatus {
  const threads: HarnessStatus["threads"] = [];
  for (let i = 0; i < n; i++) {
    const busy = i % 10 === 0;
    const frames = Array.from({ length: 15 }, (_, d) => ({
      fn: busy
        ? `process_${i}_${d}`
        : (["wait", "get", "run", "_bootstrap_inner", "_bootstrap"][d % 5] ?? "f"),
      file: busy ? `/opt/pipeline/stage_${d}.py` : "/usr/lib/python3.11/threading.py",
      line: 100 + d,
    }));
    threads.push({
      threadId: `t-${i}`,
      name: `worker-${i}`,
      state: busy ? "running" : "idle",
      frames,
    });
  }
  const bundles = Array.from({ length: Math.min(10, n) }, (_, i) => ({
    instructionId: `instruction-${i}`,
    descriptorId: `descriptor-${i}`,
    threadId: `t-${i * 10}`,
    timeSinceTransitionSec: i * 3.5,
  }));
  return { bundles, threads };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function timeParse(text: string, runs: number): number {
  parseBeamStatus(text); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    parseBeamStatus(text);
    times.push(performance.now() - t);
  }
  return median(times);
}

/** Heap kept per parsed result, averaged over several kept at once (GC noise is large). */
function retained(text: string): number {
  const copies = 5;
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept = Array.from({ length: copies }, () => parseBeamStatus(text));
  gc();
  const after = process.memoryUsage().heapUsed;
  return kept.length > 0 ? Math.max(0, after - before) / copies : 0;
}

console.log(
  "Beam status parse, per dump (median of runs; memory = heap kept by the parsed result)",
);
console.log("format  threads   text KiB   parse ms   ms per 1,000 threads   retained KiB");
for (const format of ["python", "java", "go"] as BeamSdkFormat[]) {
  for (const n of [100, 1_000, 5_000]) {
    const status = harness(n);
    const text =
      format === "go"
        ? // The SDK's 64 KiB buffer would cut big dumps; measure the whole text.
          (await import("../server/worker/beam-client/sdk-formats.js")).formatGo(status, Infinity)
        : formatHarnessStatus(format, status);
    const ms = timeParse(text, n >= 5_000 ? 7 : 21);
    const mem = retained(text);
    console.log(
      `${format.padEnd(7)} ${String(n).padStart(7)} ${(text.length / 1024).toFixed(0).padStart(10)} ${ms.toFixed(2).padStart(10)} ${((ms / n) * 1000).toFixed(2).padStart(22)} ${(mem / 1024).toFixed(0).padStart(14)}`,
    );
  }
}

const MiB = 1 << 20;
const fill = (unit: string) => unit.repeat(Math.ceil(MiB / unit.length)).slice(0, MiB);
const fixture = (name: string) =>
  readFileSync(new URL(`../../server/gateway/beam-text/fixtures/${name}`, import.meta.url), "utf8");
const typical: Record<string, string> = {
  "python fixture x N": fill(fixture("python-sdk-status.txt")),
  "java fixture x N": fill(fixture("java-sdk-status.txt")),
  "go dump, 1 MiB": fill(fixture("go-sdk-status.bin").replace(/\0+$/, "") + "\n"),
};
const worst: Record<string, string> = {
  "one line of =": "=".repeat(MiB),
  "one line of a": "a".repeat(MiB),
  "deep brackets": "[".repeat(MiB / 2) + "]".repeat(MiB / 2),
  "NUL padding": "goroutine 1 [running]:\n" + "\0".repeat(MiB),
  "short banners": fill("===== x =====\n"),
  "= lines, 4 KiB each": fill("=".repeat(4095) + "\n"),
  "thread headers only": fill("--- Thread #1 name: x and other 9 threads---\n"),
  "java headers only": fill(
    "---- Threads (3): [Thread[a,5,main], Thread[b,5,main]] State: RUNNABLE Stack: ----\n",
  ),
  "goroutine headers only": fill("goroutine 1 [IO wait, 7 minutes]:\n"),
  "newlines only": "\n".repeat(MiB),
};
console.log("\nParse time per MiB (median of 9)");
let typicalMax = 0;
for (const [name, text] of Object.entries(typical)) {
  const ms = timeParse(text, 9);
  typicalMax = Math.max(typicalMax, ms);
  console.log(`typical  ${name.padEnd(26)} ${ms.toFixed(1).padStart(8)} ms`);
}
let worstMax = 0;
for (const [name, text] of Object.entries(worst)) {
  const ms = timeParse(text, 9);
  worstMax = Math.max(worstMax, ms);
  console.log(`worst    ${name.padEnd(26)} ${ms.toFixed(1).padStart(8)} ms`);
}
console.log(
  `worst / typical (slowest of each): ${(worstMax / typicalMax).toFixed(2)}x (target <= 2x)`,
);

// What arrival costs in full: redaction (the redactor given to us) then parsing, on a typical MiB.
const redact = createRedactor();
const t = performance.now();
parseBeamStatus(redact(typical["python fixture x N"] ?? ""));
console.log(`redact + parse, python fixture x N (1 MiB): ${(performance.now() - t).toFixed(1)} ms`);
