import type { Clock } from "../clock/clock.js";

/**
 * Remembers which keys were logged, so a refusal repeated by a hostile peer
 * yields one log line per peer (per `everyMs`, if given) instead of one per
 * request. Bounded: after `max` distinct keys the memory is cleared, so a
 * flood of new keys costs at most one line per key per `max` keys.
 */
export function createLogOnce(
  { max = 1000, everyMs = Infinity }: { max?: number; everyMs?: number } = {},
  clock: Pick<Clock, "monotonic">,
): (key: string) => boolean {
  const loggedAt = new Map<string, number>();
  return (key) => {
    const last = loggedAt.get(key);
    const t = clock.monotonic();
    if (last !== undefined && t - last < everyMs) return false;
    if (loggedAt.size >= max) loggedAt.clear();
    loggedAt.set(key, t);
    return true;
  };
}
