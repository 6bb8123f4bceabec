import { create } from "@bufbuild/protobuf";
import {
  ProfileMode,
  ProfileResultSchema,
  type ProfileResult,
  type StartProfile,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import type { Clock } from "../../shared/clock/clock.js";
import { FrameTable } from "./folded-stacks.js";
import { sampleThread, ThreadSamples, type ProfileTarget } from "./sample-thread.js";
import { ThreadInspector } from "./thread-inspector.js";

export const MAX_PROFILE_MS = 60_000;
/** V8's default is 1 ms; 1 ms over a 60 s window is 60,000 samples per thread, folded per chunk. */
const DEFAULT_INTERVAL_US = 1000;
const MIN_INTERVAL_US = 100;
/** Interim results go out at most this often. */
const INTERIM_EVERY_MS = 1000;

const SAMPLER = "V8 CPU profiler (node:inspector) in the UDF thread";

/**
 * Our TS worker's sampler: answers `StartProfile` for the UDF threads of
 * the live sessions (all of them, or the one a session or thread id names).
 * One profile at a time; a second is refused with `error`, never queued.
 * Never rejects: every failure becomes the result's `error` or a partial
 * result with its reason.
 */
export class WorkerProfiler {
  private running = false;
  private readonly inspector: ThreadInspector;
  private readonly stopping = new AbortController();

  constructor(private readonly clock: Clock) {
    this.inspector = new ThreadInspector(clock);
  }

  async profile(
    commandId: string,
    request: StartProfile,
    targets: ProfileTarget[],
    emit: (interim: ProfileResult) => void,
  ): Promise<ProfileResult> {
    const refused = (error: string) => create(ProfileResultSchema, { commandId, error });
    if (this.running) return refused("a profile is already running on this worker");
    if (request.durationMs < 1 || request.durationMs > MAX_PROFILE_MS)
      return refused(`duration_ms must be 1-${MAX_PROFILE_MS}, got ${request.durationMs}`);
    const mode = request.mode === ProfileMode.CPU ? ProfileMode.CPU : ProfileMode.WALL;
    const chosen = targets.filter(
      (t) =>
        !t.gone() &&
        (request.sessionId === "" || t.sessionId === request.sessionId) &&
        (request.threadId === "" || t.name === request.threadId),
    );
    if (chosen.length === 0)
      return refused(
        request.sessionId || request.threadId
          ? `no live UDF thread runs ${request.sessionId ? `session ${request.sessionId.slice(0, 100)}` : `thread ${request.threadId.slice(0, 100)}`} on this worker`
          : "no session is running user code on this worker, so there is no UDF thread to sample",
      );
    this.running = true;
    try {
      return await this.sample(commandId, request, mode, chosen, emit);
    } finally {
      this.running = false;
    }
  }

  /** Ends a profile in progress early (worker shutdown); what was sampled is sent, partial. */
  stop(): void {
    this.stopping.abort();
  }

  private async sample(
    commandId: string,
    request: StartProfile,
    mode: ProfileMode,
    targets: ProfileTarget[],
    emit: (interim: ProfileResult) => void,
  ): Promise<ProfileResult> {
    const intervalUs = Math.max(MIN_INTERVAL_US, request.intervalUs || DEFAULT_INTERVAL_US);
    const table = new FrameTable();
    const threads = targets.map((t) => new ThreadSamples(t));
    const startedAtMs = this.clock.now();
    const startedMono = this.clock.monotonic();
    const build = (interim: boolean) => {
      const partial = threads.map((t) => t.partialReason).filter((r) => r !== "");
      const taken = threads.reduce((n, t) => n + t.taken, 0);
      const elapsed = this.clock.monotonic() - startedMono;
      return create(ProfileResultSchema, {
        commandId,
        sampler: SAMPLER,
        mode,
        intervalUs: taken > 0 ? Math.round((elapsed * 1000 * threads.length) / taken) : intervalUs,
        startedAtMs: BigInt(startedAtMs),
        durationMs: Math.round(elapsed),
        frames: table.frames,
        threads: threads.map((t) => t.toProto()),
        partial: !interim && partial.length > 0,
        partialReason: partial.join("; ").slice(0, 2000),
        note:
          mode === ProfileMode.CPU
            ? "CPU mode: a sample counts when the thread's CPU time moved around it (/proc/self/task/<tid>/schedstat, polled every 10 ms); V8's (idle) samples are dropped"
            : "wall-clock mode: every V8 sample counts; (idle) is the thread waiting in its event loop (an async read leaves no frame on the stack), (program) is V8 itself",
        interim,
      });
    };
    let lastInterim = this.clock.monotonic();
    await Promise.all(
      threads.map((into) =>
        sampleThread(this.inspector, into, table, {
          mode,
          durationMs: request.durationMs,
          intervalUs,
          clock: this.clock,
          signal: this.stopping.signal,
          onChunk: () => {
            if (this.clock.monotonic() - lastInterim < INTERIM_EVERY_MS) return;
            lastInterim = this.clock.monotonic();
            emit(build(true));
          },
        }),
      ),
    );
    // cost_micros stays 0 (unknown): V8 samples on its own thread, and the
    // process's CPU time would count the sampled threads' work too; the
    // profiler's cost is measured in bench/v8-profiler-cost.bench.ts.
    return build(false);
  }
}
