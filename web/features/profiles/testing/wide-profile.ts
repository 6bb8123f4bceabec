import { create } from "@bufbuild/protobuf";
import { ProfileResultSchema, type ProfileResult } from "../../../../gen/stallwatch/v1/agent_pb";

/**
 * A profile wide enough for the sliced folds to pause many times: `frames`
 * distinct frames over 3 threads, each frame the leaf of one stack whose path
 * runs through a few earlier frames (some of them twice: recursion), with
 * uneven counts. Deterministic, so a failure reproduces.
 */
export function wideProfile(frames = 2_000): ProfileResult {
  const parent = (i: number) => (i < 3 ? -1 : i - 1 - ((i * 7) % Math.min(i - 1, 50)));
  const pathTo = (i: number) => {
    const path: number[] = [];
    for (let at = i; at >= 0 && path.length < 30; at = parent(at)) path.unshift(at);
    // Every tenth stack calls its leaf again: a recursive frame counts once in %Total.
    if (i % 10 === 0) path.push(i);
    return path;
  };
  const threads = [0, 1, 2].map((t) => ({
    threadId: `t-${t}`,
    name: `worker-${t}`,
    samplesTaken: 100_000n,
    stacks: [] as { frames: number[]; count: bigint }[],
  }));
  for (let i = 0; i < frames; i++) {
    const root = pathTo(i)[0] ?? 0;
    threads[root % 3]?.stacks.push({ frames: pathTo(i), count: BigInt(1 + ((i * 31) % 97)) });
  }
  return create(ProfileResultSchema, {
    intervalUs: 1000,
    durationMs: 10_000,
    frames: Array.from({ length: frames }, (_, i) => ({
      function: `fn_${i}`,
      file: `/app/module_${i % 40}.py`,
      line: 1 + (i % 300),
    })),
    threads,
  });
}

/** Runs steps to the end like `runNow`, counting the pauses they asked for. */
export function countPauses<T>(steps: Generator<void, T, void>): { value: T; pauses: number } {
  let pauses = 0;
  for (;;) {
    const step = steps.next();
    if (step.done) return { value: step.value, pauses };
    pauses += 1;
  }
}
