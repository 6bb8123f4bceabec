import { PolicyMode, PolicyOutcome, type Policy } from "../../../../gen/stallwatch/v1/policy_pb";
import { formatDuration } from "../../../shared/format";

/** A mode as the configuration file spells it, so the page and the file agree. */
export function modeWord(mode: PolicyMode): string {
  switch (mode) {
    case PolicyMode.OFF:
      return "off";
    case PolicyMode.DRY_RUN:
      return "dry-run";
    case PolicyMode.ENFORCE:
      return "enforce";
    default:
      return "unknown";
  }
}

/** Enforcing is what can cancel work, so it is the loud one. */
export function modeTone(mode: PolicyMode): string {
  return mode === PolicyMode.ENFORCE
    ? "tone-bad"
    : mode === PolicyMode.DRY_RUN
      ? "tone-warn"
      : "tone-muted";
}

/**
 * The mode shown for a policy: its effective mode, and, when the switch
 * holds it in dry run, the configured one it will return to.
 */
export function modeText(policy: Pick<Policy, "configuredMode" | "effectiveMode">): string {
  const effective = modeWord(policy.effectiveMode);
  return policy.effectiveMode === policy.configuredMode
    ? effective
    : `${effective} (configured: ${modeWord(policy.configuredMode)})`;
}

export function outcomeWord(outcome: PolicyOutcome): string {
  switch (outcome) {
    case PolicyOutcome.WOULD_ACT:
      return "would have acted";
    case PolicyOutcome.ACTED:
      return "acted";
    case PolicyOutcome.SKIPPED_CAP:
      return "skipped: cap reached";
    case PolicyOutcome.FAILED:
      return "failed";
    default:
      return "unknown";
  }
}

export function outcomeTone(outcome: PolicyOutcome): string {
  switch (outcome) {
    case PolicyOutcome.ACTED:
      return "tone-ok";
    case PolicyOutcome.FAILED:
      return "tone-bad";
    case PolicyOutcome.SKIPPED_CAP:
    case PolicyOutcome.WOULD_ACT:
      return "tone-warn";
    default:
      return "tone-muted";
  }
}

/** "3 of 5 in the last 10 min": how much of its cap a policy has used. */
export function capText(policy: Pick<Policy, "maxActions" | "windowMs" | "counts">): string {
  const used = policy.counts?.actionsInWindow ?? 0;
  return `${used} of ${policy.maxActions} in the last ${formatDuration(Number(policy.windowMs))}`;
}

/** The cap is used up: the policy will only record skips until the window moves. */
export function capReached(policy: Pick<Policy, "maxActions" | "counts">): boolean {
  return policy.maxActions > 0 && (policy.counts?.actionsInWindow ?? 0) >= policy.maxActions;
}
