import { ActionKind } from "../../../gen/stallwatch/v1/control_pb.js";
import { PolicyMode } from "../../../gen/stallwatch/v1/policy_pb.js";
import type { WorkerKind } from "../fleet/tracked-worker.js";
import { formatDuration } from "../../shared/words/durations.js";
import type { SelectorTerm } from "./selector.js";

/** What a policy matches, validated. Zero / empty fields do not constrain. */
export interface PolicyMatchSpec {
  /** Lower-case SessionState names without the prefix, or "stalled". */
  sessionStates: string[];
  inStateForMs: number;
  noProgressForMs: number;
  threadNotMovingForMs: number;
  workerKinds: WorkerKind[];
  /** As written ("" when missing). */
  selectorText: string;
  selector: SelectorTerm[];
}

/** One configured policy after validation (policy-file.ts). */
export interface PolicySpec {
  name: string;
  mode: PolicyMode;
  match: PolicyMatchSpec;
  /** CANCEL_SESSION, CANCEL_WORKER or DRAIN_WORKER. */
  action: ActionKind;
  maxActions: number;
  windowMs: number;
  allowMatchAll: boolean;
}

/** Actions a policy may take, as written in the file. */
export const POLICY_ACTIONS: Readonly<Record<string, ActionKind>> = {
  "cancel-session": ActionKind.CANCEL_SESSION,
  "cancel-worker": ActionKind.CANCEL_WORKER,
  drain: ActionKind.DRAIN_WORKER,
};

export const POLICY_MODES: Readonly<Record<string, PolicyMode>> = {
  off: PolicyMode.OFF,
  "dry-run": PolicyMode.DRY_RUN,
  enforce: PolicyMode.ENFORCE,
};

/** True for actions on the whole worker (one per worker, not per session). */
export function actsOnWorker(action: ActionKind): boolean {
  return action !== ActionKind.CANCEL_SESSION;
}

const ACTION_WORDS: Partial<Record<ActionKind, string>> = {
  [ActionKind.CANCEL_SESSION]: "cancel a session",
  [ActionKind.CANCEL_WORKER]: "cancel every session of a worker (then it exits)",
  [ActionKind.DRAIN_WORKER]: "drain a worker",
};

/**
 * The policy in words, e.g. "cancel a session in processing for ≥ 10 min
 * with no progress for ≥ 10 min, on agent workers where worker_id=etl-*".
 */
export function summarize(spec: PolicySpec): string {
  const m = spec.match;
  const parts: string[] = [ACTION_WORDS[spec.action] ?? "act"];
  if (m.sessionStates.length > 0) parts.push(`in ${m.sessionStates.join(" or ")}`);
  if (m.inStateForMs > 0) parts.push(`for ≥ ${formatDuration(m.inStateForMs)}`);
  const also: string[] = [];
  if (m.noProgressForMs > 0) also.push(`no progress for ≥ ${formatDuration(m.noProgressForMs)}`);
  if (m.threadNotMovingForMs > 0)
    also.push(`its thread not moving for ≥ ${formatDuration(m.threadNotMovingForMs)}`);
  if (also.length > 0) parts.push(`with ${also.join(" and ")}`);
  if (m.workerKinds.length > 0) parts.push(`on ${m.workerKinds.join(" or ")} workers`);
  parts.push(m.selectorText ? `where ${m.selectorText}` : "on every worker");
  return `${parts.join(" ")}; at most ${spec.maxActions} per ${formatDuration(spec.windowMs)}`;
}
