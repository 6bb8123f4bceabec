import type { ProfileResult } from "../../../../gen/stallwatch/v1/agent_pb.js";

/** One row of py-spy's table: a frame's own and total share of the samples. */
export interface ProfileRow {
  function: string;
  /** "file:line", or "" for synthetic frames such as (idle). */
  location: string;
  ownSamples: number;
  totalSamples: number;
  ownPct: number;
  totalPct: number;
  ownSeconds: number;
  totalSeconds: number;
}

/**
 * py-spy's table from folded stacks: %Own counts samples where the frame is
 * innermost, %Total samples where it is anywhere on the stack (once per
 * sample, however often it recurses). Times are samples × the interval.
 * `threadId` "" = every thread. Linear in the total stack length.
 */
export function profileRows(result: ProfileResult, threadId = ""): ProfileRow[] {
  const own = new Map<number, number>();
  const total = new Map<number, number>();
  let kept = 0;
  for (const thread of result.threads) {
    if (threadId !== "" && thread.threadId !== threadId) continue;
    for (const stack of thread.stacks) {
      const n = Number(stack.count);
      kept += n;
      const leaf = stack.frames[stack.frames.length - 1];
      if (leaf !== undefined) own.set(leaf, (own.get(leaf) ?? 0) + n);
      for (const f of new Set(stack.frames)) total.set(f, (total.get(f) ?? 0) + n);
    }
  }
  const seconds = (samples: number) => (samples * result.intervalUs) / 1e6;
  const rows: ProfileRow[] = [];
  for (const [index, totalSamples] of total) {
    const frame = result.frames[index];
    if (!frame) continue;
    const ownSamples = own.get(index) ?? 0;
    rows.push({
      function: frame.function,
      location: frame.file ? `${frame.file}:${frame.line}` : "",
      ownSamples,
      totalSamples,
      ownPct: kept === 0 ? 0 : (100 * ownSamples) / kept,
      totalPct: kept === 0 ? 0 : (100 * totalSamples) / kept,
      ownSeconds: seconds(ownSamples),
      totalSeconds: seconds(totalSamples),
    });
  }
  return rows.sort((a, b) => b.ownSamples - a.ownSamples || b.totalSamples - a.totalSamples);
}
