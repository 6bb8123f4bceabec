import { SessionState, type Session } from "../../../gen/stallwatch/v1/agent_pb.js";
import { formatDuration } from "../../shared/words/durations.js";
import { stateName } from "../../shared/words/session-words.js";

/** When a session counts as stalled. All durations in milliseconds. */
export interface StallThresholds {
  /** Longest time a session may stay in each state; absent = no limit. */
  byState: Partial<Record<SessionState, number>>;
  /** Longest time without any progress counter moving (Beam's lull default: 5 min). */
  noProgressMs: number;
}

export const defaultStallThresholds: StallThresholds = {
  byState: {
    [SessionState.INITIALIZING]: 60_000,
    [SessionState.PROCESSING]: 5 * 60_000,
    [SessionState.FINISHING]: 60_000,
    [SessionState.CANCELLING]: 30_000,
  },
  noProgressMs: 5 * 60_000,
};

export interface StallVerdict {
  stalled: boolean;
  reason: string;
  /** When the session crossed the threshold. */
  sinceMs: number;
  lastProgressAtMs: number;
}

/**
 * Judges one session. The state rule and the no-progress rule are both
 * checked; the one crossed first is the reason shown. Pure, for testing with
 * any clock.
 */
export function judgeSession(
  session: Session,
  nowMs: number,
  thresholds: StallThresholds,
): StallVerdict {
  const enteredAt = Number(session.stateEnteredAtMs);
  const lastProgressAtMs =
    Number(session.progress?.lastProgressAtMs ?? 0n) || Number(session.startedAtMs) || enteredAt;
  const candidates: { sinceMs: number; reason: string }[] = [];
  const stateLimit = thresholds.byState[session.state];
  if (stateLimit !== undefined && nowMs - enteredAt > stateLimit) {
    candidates.push({
      sinceMs: enteredAt + stateLimit,
      reason: `${stateName(session.state)} for ${formatDuration(nowMs - enteredAt)} (threshold ${formatDuration(stateLimit)})`,
    });
  }
  if (nowMs - lastProgressAtMs > thresholds.noProgressMs) {
    candidates.push({
      sinceMs: lastProgressAtMs + thresholds.noProgressMs,
      reason: `no progress for ${formatDuration(nowMs - lastProgressAtMs)} (threshold ${formatDuration(thresholds.noProgressMs)})`,
    });
  }
  candidates.sort((a, b) => a.sinceMs - b.sinceMs);
  const first = candidates[0];
  return first
    ? { stalled: true, reason: first.reason, sinceMs: first.sinceMs, lastProgressAtMs }
    : { stalled: false, reason: "", sinceMs: 0, lastProgressAtMs };
}
