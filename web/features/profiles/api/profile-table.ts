import type { ProfileResult } from "../../../../gen/stallwatch/v1/agent_pb.js";
import { runNow, type Steps } from "./sliced.js";

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
  return runNow(profileRowsSteps(result, threadId));
}

/** Stacks folded between two pauses: ~3,000 frame references at paths ~25 deep, well under 1 ms. */
const STACKS_PER_STEP = 128;
/** Rows made between two pauses. */
const ROWS_PER_STEP = 1024;

/**
 * `profileRows` as steps, for `runSliced`: it pauses every 128 stacks and
 * every 1,024 rows, so a profile of thousands of frames is folded in short
 * tasks instead of one long one (see sliced.ts).
 */
export function* profileRowsSteps(result: ProfileResult, threadId = ""): Steps<ProfileRow[]> {
  // Indexed by frame: typed arrays, no allocation per stack (a 5,000-frame
  // profile has ~130,000 frame references; Maps and a Set per stack made
  // this a 50-170 ms long task in the browser).
  const n = result.frames.length;
  const own = new Float64Array(n);
  const total = new Float64Array(n);
  /** The stack a frame was last counted in: a recursive frame counts once per stack. */
  const seenIn = new Int32Array(n).fill(-1);
  let kept = 0;
  let stackNo = 0;
  for (const thread of result.threads) {
    if (threadId !== "" && thread.threadId !== threadId) continue;
    for (const stack of thread.stacks) {
      const count = Number(stack.count);
      kept += count;
      const leaf = stack.frames[stack.frames.length - 1];
      if (leaf !== undefined && leaf < n) own[leaf] = (own[leaf] ?? 0) + count;
      for (const f of stack.frames) {
        if (f >= n || seenIn[f] === stackNo) continue;
        seenIn[f] = stackNo;
        total[f] = (total[f] ?? 0) + count;
      }
      stackNo += 1;
      if (stackNo % STACKS_PER_STEP === 0) yield;
    }
  }
  const seconds = (samples: number) => (samples * result.intervalUs) / 1e6;
  const rows: ProfileRow[] = [];
  for (let index = 0; index < n; index++) {
    if (index % ROWS_PER_STEP === ROWS_PER_STEP - 1) yield;
    const totalSamples = total[index] ?? 0;
    const frame = result.frames[index];
    if (totalSamples === 0 || !frame) continue;
    const ownSamples = own[index] ?? 0;
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
