import { Counter, Gauge, type Registry } from "prom-client";

const MODES = ["dry_run", "enforce"] as const;
const OUTCOMES = ["would_act", "acted", "skipped_cap", "failed"] as const;
export type PolicyMetricMode = (typeof MODES)[number];
export type PolicyMetricOutcome = (typeof OUTCOMES)[number];

/**
 * /metrics for remediation policies. The `policy` label takes only the
 * configured names (at most 50 per file, validated), so every series exists
 * at 0 from the start and none grows per worker. A reload (SIGHUP) drops the
 * series of policies it removed: otherwise every name a file ever held would
 * stay on /metrics until restart, and edits could grow it without bound.
 */
export class PolicyMetrics {
  private readonly matches: Counter<"policy" | "mode">;
  private readonly actions: Counter<"policy" | "outcome">;
  private readonly capReached: Counter<"policy">;
  private readonly dryRunOverride: Gauge;
  /** The policies whose series are on /metrics. */
  private readonly names = new Set<string>();

  constructor(registry: Registry, policies: readonly string[]) {
    this.matches = new Counter({
      name: "stallwatch_policy_matches_total",
      help: "New matches of a remediation policy (one per policy and session, or worker), by the mode it was in.",
      labelNames: ["policy", "mode"],
      registers: [registry],
    });
    this.actions = new Counter({
      name: "stallwatch_policy_actions_total",
      help: "What came of a policy's matches: would_act (dry run), acted, skipped_cap, failed.",
      labelNames: ["policy", "outcome"],
      registers: [registry],
    });
    this.capReached = new Counter({
      name: "stallwatch_policy_cap_reached_total",
      help: "Windows in which a policy reached its max_actions cap (counted once per window by the gateway that hit it).",
      labelNames: ["policy"],
      registers: [registry],
    });
    this.dryRunOverride = new Gauge({
      name: "stallwatch_policy_dry_run_override",
      help: "1 while the operator switch holds every policy in dry run.",
      registers: [registry],
    });
    this.keepOnly(policies);
  }

  /**
   * The series of exactly `policies`: new names start at 0 (at start, and
   * for policies a reload added), names no longer configured lose theirs.
   */
  keepOnly(policies: readonly string[]): void {
    const wanted = new Set(policies);
    for (const policy of this.names) {
      if (wanted.has(policy)) continue;
      for (const mode of MODES) this.matches.remove({ policy, mode });
      for (const outcome of OUTCOMES) this.actions.remove({ policy, outcome });
      this.capReached.remove({ policy });
      this.names.delete(policy);
    }
    for (const policy of wanted) {
      if (this.names.has(policy)) continue;
      this.names.add(policy);
      for (const mode of MODES) this.matches.inc({ policy, mode }, 0);
      for (const outcome of OUTCOMES) this.actions.inc({ policy, outcome }, 0);
      this.capReached.inc({ policy }, 0);
    }
  }

  matched(policy: string, mode: PolicyMetricMode): void {
    this.matches.inc({ policy, mode });
  }

  outcome(policy: string, outcome: PolicyMetricOutcome): void {
    this.actions.inc({ policy, outcome });
  }

  capBinds(policy: string): void {
    this.capReached.inc({ policy });
  }

  override(on: boolean): void {
    this.dryRunOverride.set(on ? 1 : 0);
  }
}
