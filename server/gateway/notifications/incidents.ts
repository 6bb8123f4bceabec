import type { Clock } from "../../shared/clock/clock.js";
import type { IncidentStore } from "../store/incident-store.js";
import type { NoticeKind } from "./payloads.js";

/** The fleet event fields the notifier reads (FleetEvent's, as plain strings). */
export interface IncidentEvent {
  workerId: string;
  kind: string;
  toState: string;
  sessionId: string;
}

/** Liveness states that open an incident, and those that end its liveness part. */
const BAD = new Set(["unresponsive", "gone"]);
const GOOD = new Set(["healthy", "exited"]);

/** What an event does to a worker's incident: raise a cause, clear one (or all), or nothing. */
function effectOf(
  event: IncidentEvent,
): { raise: string; kind: NoticeKind } | { clear: string } | { clearAll: true } | undefined {
  if (event.kind === "liveness" && BAD.has(event.toState))
    return { raise: "liveness", kind: event.toState as "gone" };
  if (event.kind === "session_stalled")
    return { raise: `session:${event.sessionId}`, kind: "stalled" };
  // A worker that exited has no sessions left: its incident is over, whatever opened it.
  if (event.kind === "liveness" && event.toState === "exited") return { clearAll: true };
  if (event.kind === "liveness" && GOOD.has(event.toState)) return { clear: "liveness" };
  if (event.kind === "session_cleared") return { clear: `session:${event.sessionId}` };
  return undefined;
}

/** True for the events that can start, end or report something; the rest never reach the store. */
export function mayNotify(event: IncidentEvent): boolean {
  return event.kind === "action" || effectOf(event) !== undefined;
}

/** What to send for `event` when the store cannot say: bad news as new, nothing else. */
export function announcedWithoutStore(event: IncidentEvent): NoticeKind | undefined {
  if (event.kind === "action") return "action";
  const effect = effectOf(event);
  return effect && "raise" in effect ? effect.kind : undefined;
}

/**
 * One message per worker per incident, plus one when it recovers. An
 * incident opens with the first bad news about a worker (unresponsive, gone,
 * a session stalled) and stays open while any cause remains (its liveness
 * bad, any session stalled); later bad news inside it is a duplicate. It
 * closes, with a recovery, when the last cause clears.
 *
 * The store holds the truth (one row per open incident), so a gateway that
 * restarts, or takes a worker over from a dead peer, does not announce an
 * incident again, and of two gateways racing, the one whose insert (or
 * delete) wins announces. Memory is a cache of at most `maxCached` workers:
 * one forgotten is read back when its next event comes.
 */
export class Incidents {
  private readonly cache = new Map<string, Set<string>>();

  constructor(
    private readonly store: IncidentStore,
    private readonly clock: Clock,
    private readonly maxCached = 10_000,
  ) {}

  /** What to send for `event`: a kind, "duplicate", or undefined (nothing to say). */
  async judge(event: IncidentEvent): Promise<NoticeKind | "duplicate" | undefined> {
    if (event.kind === "action") return "action";
    const effect = effectOf(event);
    if (!effect) return undefined;
    const worker = event.workerId;
    const now = this.clock.now();
    if ("raise" in effect) {
      const cached = this.cache.get(worker);
      if (cached) {
        if (!cached.has(effect.raise)) {
          cached.add(effect.raise);
          await this.store.setIncidentCauses(worker, [...cached], now);
        }
        return "duplicate";
      }
      const { opened, causes } = await this.store.openIncident(worker, effect.raise, now);
      this.remember(worker, new Set(causes));
      return opened ? effect.kind : "duplicate";
    }
    let causes = this.cache.get(worker);
    if (!causes) {
      const stored = await this.store.getIncident(worker);
      if (!stored) return undefined;
      causes = new Set(stored);
      this.remember(worker, causes);
    }
    if ("clearAll" in effect) causes.clear();
    else if (!causes.delete(effect.clear)) return undefined;
    if (causes.size > 0) {
      await this.store.setIncidentCauses(worker, [...causes], now);
      return undefined;
    }
    this.cache.delete(worker);
    return (await this.store.closeIncident(worker)) ? "recovered" : undefined;
  }

  private remember(worker: string, causes: Set<string>): void {
    if (this.cache.size >= this.maxCached) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(worker, causes);
  }
}
