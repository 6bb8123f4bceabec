import { create } from "@bufbuild/protobuf";
import {
  ProfileMode,
  ProfileThreadSchema,
  type ProfileThread,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import { sleep, type Clock } from "../../shared/clock/clock.js";
import { CpuTrack, nowUs } from "./cpu-track.js";
import { StackCounts, type FrameTable } from "./folded-stacks.js";
import type { ThreadInspector } from "./thread-inspector.js";
import { foldV8Profile, type V8Profile } from "./v8-fold.js";

/**
 * V8's profile is fetched and folded in chunks this long: the result grows
 * as it goes (interim results), a thread that dies mid-profile loses at most
 * one chunk, and the thread never holds more than one chunk of raw samples.
 */
const CHUNK_MS = 2000;

/** A UDF thread as the profiler needs it. */
export interface ProfileTarget {
  /** Node's worker thread id (how the inspector names it). */
  threadId: number;
  /** As named in thread dumps, e.g. "udf-3". */
  name: string;
  sessionId: string;
  /** Linux tid, for CPU mode; undefined until the thread reported it. */
  osTid: number | undefined;
  gone(): boolean;
}

export interface SampleOptions {
  mode: ProfileMode;
  durationMs: number;
  intervalUs: number;
  clock: Clock;
  signal: AbortSignal;
  /** Called after every folded chunk (for interim results). */
  onChunk(): void;
}

/** One thread's profile as it grows; `toProto()` is valid at any time. */
export class ThreadSamples {
  readonly counts = new StackCounts();
  taken = 0;
  note = "";
  partialReason = "";
  cpuMs = 0;

  constructor(readonly target: ProfileTarget) {}

  toProto(): ProfileThread {
    return create(ProfileThreadSchema, {
      threadId: this.target.name,
      name: this.target.name,
      sessionId: this.target.sessionId,
      samplesTaken: BigInt(this.taken),
      stacks: this.counts.toProto(),
      note: this.note || this.describe(),
    });
  }

  /** The words that keep an idle or blocked thread's profile from misleading. */
  private describe(): string {
    if (this.taken === 0) return "";
    if (this.counts.kept === 0)
      return `idle: 0 of ${this.taken} samples on CPU (the thread was blocked or waiting; it used ${this.cpuMs.toFixed(0)} ms of CPU in the window)`;
    return "";
  }
}

/**
 * Makes the thread's code compile again while the profiler listens, so its
 * samples name the function that runs. V8's profiler (Node 20, V8 11.3)
 * learns code from creation events while it runs plus an enumeration of
 * existing code when it starts, and that enumeration misses code compiled
 * earlier, above all a loop's on-stack-replacement code: a UDF that started
 * spinning before the profile had its samples attributed to its caller
 * (`udf-thread.js`) with no frame of its own. Starting and stopping precise
 * coverage deoptimizes every function of the thread (a frame on the stack
 * deoptimizes when control returns to it, at the loop's next call), so the
 * hot code is compiled anew, in view of the profiler, within milliseconds.
 * Measured on the demo's `spin`: 0% of samples in `process` without this,
 * ~100% with it (`profiles.integration.test.ts`).
 */
async function forgetCompiledCode(call: Call): Promise<void> {
  await call("Profiler.startPreciseCoverage", { callCount: false, detailed: false });
  await call("Profiler.stopPreciseCoverage");
}

type Call = (method: string, params?: object) => Promise<unknown>;

/** How long after its answer a thread may still be busy with one inspector message (deopts, GC). */
const OWN_WORK_TAIL_US = 20_000;

/**
 * Samples one UDF thread with its own V8 CPU profiler (started and stopped
 * through the thread's inspector), folding each chunk into `into`. CPU mode
 * keeps a sample only when the thread's CPU time moved around it
 * ({@link CpuTrack}) and never V8's `(idle)`. Ends early, marking
 * `partialReason`, when the thread goes away or stops answering.
 */
export async function sampleThread(
  inspector: ThreadInspector,
  into: ThreadSamples,
  table: FrameTable,
  opts: SampleOptions,
): Promise<void> {
  const { target } = into;
  const sessionId = await inspector.sessionOf(target.threadId);
  if (!sessionId) {
    into.partialReason = `${target.name}: its inspector did not attach, so it was not sampled`;
    return;
  }
  let cpu: CpuTrack | undefined;
  if (opts.mode === ProfileMode.CPU) {
    cpu = target.osTid === undefined ? undefined : new CpuTrack(target.osTid);
    if (!cpu?.readable) {
      into.partialReason = `${target.name}: its CPU time cannot be read, so CPU mode cannot tell running from waiting`;
      cpu?.stop();
      return;
    }
  }
  const keep = cpu
    ? (tUs: number, leaf: string) => leaf !== "(idle)" && cpu.onCpu(tUs)
    : () => true;
  // Every message to the thread goes through here, so CPU mode can leave out
  // the CPU the thread spent answering it (CpuTrack.markOwnWork).
  const call: Call = async (method, params) => {
    const fromUs = nowUs();
    try {
      return await inspector.call(sessionId, method, params);
    } finally {
      cpu?.markOwnWork(fromUs, nowUs() + OWN_WORK_TAIL_US);
    }
  };
  const started = opts.clock.monotonic();
  try {
    await call("Profiler.enable");
    await call("Profiler.setSamplingInterval", {
      interval: opts.intervalUs,
    });
    for (;;) {
      const left = opts.durationMs - (opts.clock.monotonic() - started);
      if (left <= 0 || opts.signal.aborted) break;
      await call("Profiler.start");
      await forgetCompiledCode(call);
      await sleep(opts.clock, Math.min(CHUNK_MS, left), opts.signal);
      if (target.gone() || !inspector.isAttached(sessionId)) {
        into.partialReason = `${target.name} ended after ${((opts.clock.monotonic() - started) / 1000).toFixed(1)} s; the samples up to its last ${CHUNK_MS / 1000} s chunk are kept`;
        break;
      }
      const { profile } = (await call("Profiler.stop")) as {
        profile: V8Profile;
      };
      into.taken += foldV8Profile(profile, table, into.counts, keep);
      if (cpu) into.cpuMs = cpu.cpuMs;
      opts.onChunk();
    }
    if (opts.signal.aborted) into.partialReason ||= "the worker is stopping";
  } catch (err) {
    into.partialReason ||= `${target.name}: ${(err as Error).message}`;
  } finally {
    cpu?.stop();
    if (cpu) into.cpuMs = cpu.cpuMs;
    if (!target.gone()) void inspector.call(sessionId, "Profiler.disable").catch(() => undefined);
  }
}
