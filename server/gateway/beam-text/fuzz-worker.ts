import { parentPort, workerData } from "node:worker_threads";
import fc from "fast-check";
import { parseBeamStatus } from "./status-text.js";

/**
 * Runs in a worker thread (compiled to dist/), so the test's watchdog can
 * terminate it if a parse never returns: a synchronous hang cannot be
 * interrupted from the same thread. Posts each input before parsing it.
 * Not used by the gateway.
 */
const { seed, runs, maxChars } = workerData as { seed: number; runs: number; maxChars: number };

const pieces = [
  "========== ",
  " ==========",
  "==============================",
  "ACTIVE PROCESSING BUNDLES",
  "THREAD DUMP",
  "--- instruction ",
  "---- Instruction ",
  "tracked thread: <Thread(",
  "Tracked thread: ",
  "time since transition: ",
  "--- Thread #",
  " name: ",
  " and other 3 threads---",
  "threads: [(1, 'a'), (2, \"b\")",
  '  File "',
  '", line ',
  ", in ",
  "---- Threads (",
  "): [Thread[",
  "] State: RUNNABLE Stack: ----",
  "goroutine ",
  " [IO wait, 7 minutes]:",
  "\t/x.go:1 +0x1",
  "created by ",
  "\n",
  "\r\n",
  "\0",
  "=",
  "[",
  "(",
  " ",
];
const text = fc
  .array(
    fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 20 }), fc.integer().map(String)),
    {
      maxLength: 400,
    },
  )
  .map((parts) => parts.join("").slice(0, maxChars));

fc.assert(
  fc.property(text, (input) => {
    parentPort?.postMessage({ kind: "input", input });
    const p = parseBeamStatus(input);
    // Invariants: never more than the caps, never a thread without an id.
    if (p.threads.some((t) => t.threadId === "")) throw new Error("thread without an id");
    if (p.unparsed.length > (16 << 10) + 100) throw new Error("unparsed over its cap");
  }),
  { seed, numRuns: runs },
);
parentPort?.postMessage({ kind: "done" });
