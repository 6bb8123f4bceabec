import type { ProfileResult } from "../../../gen/stallwatch/v1/agent_pb.js";

/** The caps docs/profiles.md promises agent authors. */
export const PROFILE_CAPS = {
  frames: 20_000,
  stacksPerThread: 50_000,
  depth: 256,
  threads: 64,
  text: 2000,
};

/**
 * Checks a worker's ProfileResult against the caps, in one linear pass, and
 * trims its strings. Returns why it is refused (the profile then fails with
 * that reason) or undefined when it is fit to keep. A stack naming a frame
 * that is not in the table is refused rather than shown wrong.
 */
export function checkProfileResult(r: ProfileResult): string | undefined {
  const cap = PROFILE_CAPS;
  if (r.frames.length > cap.frames)
    return `the worker sent ${r.frames.length} frames; at most ${cap.frames} are kept`;
  if (r.threads.length > cap.threads)
    return `the worker sent ${r.threads.length} threads; at most ${cap.threads} are kept`;
  const trim = (s: string) => (s.length > cap.text ? s.slice(0, cap.text) : s);
  r.error = trim(r.error);
  r.sampler = trim(r.sampler);
  r.partialReason = trim(r.partialReason);
  r.note = trim(r.note);
  for (const f of r.frames) {
    f.function = trim(f.function);
    f.file = trim(f.file);
  }
  for (const t of r.threads) {
    t.threadId = trim(t.threadId);
    t.name = trim(t.name);
    t.sessionId = trim(t.sessionId);
    t.note = trim(t.note);
    if (t.stacks.length > cap.stacksPerThread)
      return `thread ${t.threadId} has ${t.stacks.length} distinct stacks; at most ${cap.stacksPerThread} are kept`;
    for (const s of t.stacks) {
      if (s.frames.length > cap.depth)
        return `a stack of thread ${t.threadId} is ${s.frames.length} frames deep; at most ${cap.depth} are kept`;
      for (const i of s.frames)
        if (i >= r.frames.length)
          return `a stack of thread ${t.threadId} names frame ${i}, which is not in the frame table`;
    }
  }
  return undefined;
}
