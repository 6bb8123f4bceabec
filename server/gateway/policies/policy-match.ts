import { SessionState } from "../../../gen/stallwatch/v1/agent_pb.js";
import type { SessionView, ThreadView } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { formatDuration } from "../../shared/words/durations.js";
import type { TrackedWorker } from "../fleet/tracked-worker.js";
import type { PolicyMatchSpec } from "./policy-spec.js";
import { selectorMatches } from "./selector.js";

/** Longest evidence text kept with a decision and its action. */
export const MAX_EVIDENCE_CHARS = 2000;

/** The thread running a session's user code in the worker's latest dump, if any. */
function sessionThread(worker: TrackedWorker, view: SessionView): ThreadView | undefined {
  const session = view.session;
  const threads = worker.status.latestDump?.threads ?? [];
  if (!session) return undefined;
  return (
    threads.find((t) => session.threadId !== "" && t.thread?.threadId === session.threadId) ??
    threads.find((t) => t.thread?.sessionId === session.sessionId)
  );
}

/**
 * Whether one session matches, and if it does, what matched in words
 * ("processing for 62 min; no progress for 61 min; thread udf-1 not moving
 * for 60 min at recv_into (socket.py:706)"). Undefined when it does not
 * match. Pure: times come from `nowMs`; a thread counts as not moving only
 * over what the dumps saw (from its unchanged-since to the latest dump).
 */
export function matchSession(
  match: PolicyMatchSpec,
  worker: TrackedWorker,
  view: SessionView,
  nowMs: number,
): string | undefined {
  const session = view.session;
  if (!session) return undefined;
  if (match.workerKinds.length > 0 && !match.workerKinds.includes(worker.kind)) return undefined;
  const stateWord = (SessionState[session.state] as string | undefined)?.toLowerCase() ?? "unknown";
  if (
    match.sessionStates.length > 0 &&
    !match.sessionStates.includes(stateWord) &&
    !(view.stalled && match.sessionStates.includes("stalled"))
  )
    return undefined;
  if (
    !selectorMatches(match.selector, {
      workerId: worker.id,
      udfName: session.udfName,
      taskContext: session.taskContext,
    })
  )
    return undefined;
  const evidence: string[] = [];
  const inStateMs = nowMs - Number(session.stateEnteredAtMs);
  if (match.inStateForMs > 0) {
    if (session.stateEnteredAtMs <= 0n || inStateMs < match.inStateForMs) return undefined;
  }
  evidence.push(`${stateWord.replaceAll("_", " ")} for ${formatDuration(Math.max(0, inStateMs))}`);
  const progressAt =
    Number(view.lastProgressAtMs) ||
    Number(session.progress?.lastProgressAtMs ?? 0n) ||
    Number(session.startedAtMs);
  if (match.noProgressForMs > 0) {
    if (progressAt <= 0 || nowMs - progressAt < match.noProgressForMs) return undefined;
  }
  if (progressAt > 0) evidence.push(`no progress for ${formatDuration(nowMs - progressAt)}`);
  const thread = sessionThread(worker, view);
  const dumpAt = Number(worker.status.latestDump?.takenAtMs ?? 0n);
  const unchanged = thread ? Number(thread.unchangedSinceMs) : 0;
  const stillFor = unchanged > 0 && dumpAt >= unchanged ? dumpAt - unchanged : 0;
  if (match.threadNotMovingForMs > 0 && stillFor < match.threadNotMovingForMs) return undefined;
  if (thread?.thread && stillFor > 0) {
    const top = thread.thread.frames[0];
    evidence.push(
      `thread ${thread.thread.name || thread.thread.threadId} not moving for ${formatDuration(stillFor)}${top ? ` at ${top}` : ""}`,
    );
  }
  if (view.stalled && view.stallReason) evidence.push(`stalled: ${view.stallReason}`);
  const text = evidence.join("; ");
  return text.length > MAX_EVIDENCE_CHARS ? `${text.slice(0, MAX_EVIDENCE_CHARS - 1)}…` : text;
}
