// Entry point of a probe thread: one ProbeShard on its own event loop. The
// main thread sends targets in and gets beat records out, batched per tick, so
// nothing on the main thread (snapshots, big dumps, API calls) delays a beat
// or inflates a measured round trip.
import { parentPort, workerData } from "node:worker_threads";
import { systemClock } from "../../shared/clock/clock.js";
import { BeatBatchWriter } from "./beat-batch.js";
import { ProbeShard } from "./probe-shard.js";
import type { ToProbeThread, ProbeThreadConfig } from "./probe-thread-messages.js";

const config = workerData as ProbeThreadConfig;
const port = parentPort;
if (!port) throw new Error("probe-thread.js runs as a worker thread only");

const batch = new BeatBatchWriter();
const shard = new ProbeShard({
  intervalMs: config.intervalMs,
  deadlineMs: config.deadlineMs,
  maxBackoffMs: config.maxBackoffMs,
  tickMs: config.tickMs,
  clock: systemClock,
  onRecord: (record) => batch.push(record),
});

// One message per flush, not per beat, its numbers transferred rather than cloned.
const flusher = setInterval(() => {
  const taken = batch.take();
  // slice() made the numbers a plain ArrayBuffer of their own, never a shared one.
  if (taken) port.postMessage(taken, [taken.numbers.buffer as ArrayBuffer]);
}, config.flushMs);

port.on("message", (message: ToProbeThread) => {
  switch (message.t) {
    case "add":
      shard.add(message.slot, message.host, message.port, message.delayMs);
      break;
    case "remove":
      shard.remove(message.slot);
      break;
    case "now":
      shard.probeNow(message.slot);
      break;
    case "stop":
      clearInterval(flusher);
      shard.stop();
      port.close();
      break;
  }
});
