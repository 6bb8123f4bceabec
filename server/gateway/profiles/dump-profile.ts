import { create } from "@bufbuild/protobuf";
import {
  FoldedStackSchema,
  ProfileFrameSchema,
  ProfileMode,
  ProfileResultSchema,
  ProfileThreadSchema,
  type ProfileFrame,
  type ProfileResult,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import type { ThreadDumpView } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { sleep, type Clock } from "../../shared/clock/clock.js";
import { parseFrame } from "./frame-text.js";

export interface DumpSampling {
  mode: ProfileMode;
  durationMs: number;
  /** One dump this often: the live view's cadence, which the dump budget plans for. */
  everyMs: number;
  /** Only this thread / this session's thread; "" = all. */
  threadId: string;
  sessionId: string;
  clock: Clock;
  /** Takes one dump; undefined when the worker did not give one. */
  dump(): Promise<ThreadDumpView | undefined>;
  /** True once the worker is gone: sampling stops, what was folded is kept. */
  gone(): string | undefined;
  onProgress(result: ProfileResult): void;
}

const RUNNING = /^(running|runnable)$/i;

/**
 * A profile folded from repeated thread dumps: each dump is one sample of
 * every thread, so its resolution is the dump interval, and the label says
 * "from N dumps". CPU mode keeps a thread's sample only when the dump
 * called it running (RUNNABLE for Java). A worker that goes away mid-profile
 * leaves the samples so far, marked partial.
 */
export async function profileFromDumps(s: DumpSampling): Promise<ProfileResult> {
  const frames: ProfileFrame[] = [];
  const frameIndex = new Map<string, number>();
  const threads = new Map<
    string,
    {
      name: string;
      session: string;
      taken: number;
      stacks: Map<string, { frames: number[]; count: number }>;
    }
  >();
  const startedAtMs = s.clock.now();
  const started = s.clock.monotonic();
  let dumps = 0;
  let partialReason = "";
  const indexOf = (text: string) => {
    const known = frameIndex.get(text);
    if (known !== undefined) return known;
    const f = parseFrame(text);
    frames.push(create(ProfileFrameSchema, { function: f.fn, file: f.file, line: f.line }));
    frameIndex.set(text, frames.length - 1);
    return frames.length - 1;
  };
  const build = (interim: boolean) =>
    create(ProfileResultSchema, {
      sampler: `from ${dumps} dumps, one every ${(s.everyMs / 1000).toFixed(1)} s`,
      mode: s.mode,
      intervalUs: s.everyMs * 1000,
      startedAtMs: BigInt(startedAtMs),
      durationMs: Math.round(s.clock.monotonic() - started),
      frames,
      threads: [...threads].map(([id, t]) =>
        create(ProfileThreadSchema, {
          threadId: id,
          name: t.name,
          sessionId: t.session,
          samplesTaken: BigInt(t.taken),
          stacks: [...t.stacks.values()].map((x) =>
            create(FoldedStackSchema, { frames: x.frames, count: BigInt(x.count) }),
          ),
          note:
            s.mode === ProfileMode.CPU && t.stacks.size === 0 && t.taken > 0
              ? `idle: running in 0 of ${t.taken} dumps (blocked or waiting)`
              : "",
        }),
      ),
      partial: !interim && partialReason !== "",
      partialReason,
      note: "each dump is one sample per thread; a dump shows where a thread is, not how long it stayed between dumps",
      interim,
    });
  for (;;) {
    const gone = s.gone();
    if (gone) {
      partialReason = `${gone} after ${dumps} dumps; the samples so far are kept`;
      break;
    }
    const dump = await s.dump().catch(() => undefined);
    if (dump) {
      dumps += 1;
      for (const view of dump.threads) {
        const th = view.thread;
        if (!th) continue;
        if (s.threadId && th.threadId !== s.threadId) continue;
        if (s.sessionId && th.sessionId !== s.sessionId) continue;
        let t = threads.get(th.threadId);
        if (!t)
          threads.set(
            th.threadId,
            (t = { name: th.name, session: th.sessionId, taken: 0, stacks: new Map() }),
          );
        t.taken += 1;
        if (s.mode === ProfileMode.CPU && !RUNNING.test(th.state)) continue;
        if (frames.length >= 20_000 || th.frames.length === 0) continue;
        const stack = th.frames.slice(0, 256).map(indexOf).reverse();
        const key = stack.join(",");
        const known = t.stacks.get(key);
        if (known) known.count += 1;
        else t.stacks.set(key, { frames: stack, count: 1 });
      }
      s.onProgress(build(true));
    }
    const left = s.durationMs - (s.clock.monotonic() - started);
    if (left <= 0) break;
    await sleep(s.clock, Math.min(s.everyMs, left));
  }
  return build(false);
}
