import { createHash } from "node:crypto";

/** What a policy acts on: one session, or one run of a worker (for drain / cancel-worker). */
export interface DecisionTarget {
  policy: string;
  workerId: string;
  /** `session:<id>`, or `worker:<when it started>` for actions on the whole worker. */
  target: string;
}

const digest = (...parts: string[]) =>
  createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 40);

/**
 * Ids derived from what was decided, never random: the same match gives the
 * same id on every evaluation, after a restart and on every gateway, so the
 * store's primary key (and the action's) makes a repeat a no-op. The
 * enforcing id is also the action's id (`[\w-]{1,100}`, as action ids must be).
 */
export const decisionIds = (t: DecisionTarget) => ({
  /** An action taken (or to be taken): the decision's id and its action's. */
  act: `pol-${digest("act", t.policy, t.workerId, t.target)}`,
  /** A dry-run match: its own id, so enforcing later still acts once. */
  dryRun: `dry-${digest("dry", t.policy, t.workerId, t.target)}`,
  /** Skipped under the cap in one window (enforcing, or in dry run); the next window decides again. */
  skipped: (windowIndex: number, dryRun: boolean) =>
    `cap-${digest(dryRun ? "dry-cap" : "cap", t.policy, t.workerId, t.target, String(windowIndex))}`,
});
