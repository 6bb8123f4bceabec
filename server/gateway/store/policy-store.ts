import type { AuditRecord } from "../../../gen/stallwatch/v1/control_pb.js";
import type { DryRunOverride, PolicyDecision } from "../../../gen/stallwatch/v1/policy_pb.js";

/** The fleet-wide cap a decision to act is checked against. */
export interface DecisionCap {
  maxActions: number;
  windowMs: number;
  /** The outcome the cap counts: ACTED when enforcing, WOULD_ACT in dry run. */
  counted: number;
  /** What is recorded instead when the cap binds (outcome SKIPPED_CAP, its own id). */
  skipped: PolicyDecision;
}

/** One policy's decisions as counted in the store (every gateway's). */
export interface PolicyTally {
  /** Keyed by PolicyOutcome. */
  byOutcome: Map<number, number>;
  lastAtMs: number;
  /** ACTED decisions inside the policy's current window. */
  actedInWindow: number;
}

/**
 * What remediation policies keep durably (server/gateway/store implements it
 * on SQLite and PostgreSQL). Decision ids are deterministic, so recording the
 * same decision twice, after a restart or from another gateway, is a no-op
 * that returns the first one.
 */
export interface PolicyStore {
  /**
   * In one transaction, serialised per policy across gateways: returns the
   * decision already recorded under the same id, if any; otherwise, with a
   * `cap`, counts the policy's `cap.counted` decisions inside the window and records
   * `cap.skipped` instead when the cap binds; otherwise records `decision`.
   * `fresh` tells whether this call inserted what it returns.
   */
  recordDecision(
    decision: PolicyDecision,
    cap?: DecisionCap,
  ): Promise<{ decision: PolicyDecision; fresh: boolean }>;
  /** Rewrites a recorded decision (outcome, detail, evidence snapshot). */
  updateDecision(decision: PolicyDecision): Promise<void>;
  /** Newest first. */
  listDecisions(filter: {
    policy?: string;
    limit: number;
    beforeMs?: number;
  }): Promise<PolicyDecision[]>;
  /** Per policy: decisions by outcome, the latest, and ACTED ones since each `sinceMs`. */
  tallyPolicies(windows: { policy: string; sinceMs: number }[]): Promise<Map<string, PolicyTally>>;
  /**
   * ACTED decisions of this gateway (or of none) whose action was never
   * recorded: the process stopped between deciding and acting.
   */
  listUnstartedDecisions(): Promise<PolicyDecision[]>;
  /** Marks such a decision FAILED, unless its action exists by now; true when it did. */
  failUnstarted(decision: PolicyDecision): Promise<boolean>;
  getDryRunOverride(): Promise<DryRunOverride | undefined>;
  /** Writes the switch and its audit record in one transaction. */
  setDryRunOverride(override: DryRunOverride, audit: AuditRecord): Promise<void>;
}
