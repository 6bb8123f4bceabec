import { randomUUID } from "node:crypto";
import type { Clock, Timer } from "../../shared/clock/clock.js";
import { create } from "@bufbuild/protobuf";
import {
  FleetEventSchema,
  type FleetEvent,
  type ThreadDumpView,
} from "../../../gen/stallwatch/v1/fleet_pb.js";

/** What a caller says about an event; id and time are filled in. */
export interface EventInit {
  workerId: string;
  /** `identity`: who may speak for a worker id (refused or taken-over agent and Beam streams). */
  kind:
    | "liveness"
    | "session_stalled"
    | "session_cleared"
    | "action"
    | "identity"
    | "notification"
    // Remediation policies (server/gateway/policies): a dry-run match, an
    // action taken, the cap reached, an action that could not start, the switch.
    | "policy_matched"
    | "policy_acted"
    | "policy_cap_reached"
    | "policy_failed"
    | "policy_override";
  summary: string;
  fromState?: string;
  toState?: string;
  sessionId?: string;
  evidence?: ThreadDumpView;
  atMs?: number;
}

/**
 * Fleet events (liveness changes, stalls, actions) with their evidence. The
 * newest `capacity` stay in memory for the dashboard; every event is also
 * handed to `sink` (the SQLite store) in batches, so a burst of transitions
 * costs one transaction.
 */
export class EventLog {
  private readonly events: FleetEvent[] = [];
  private batch: FleetEvent[] = [];
  private timer: Timer | undefined;
  private readonly listeners = new Set<(event: FleetEvent) => void>();
  private closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly capacity = 5000,
    private readonly sink?: (events: FleetEvent[]) => void,
    private readonly flushMs = 200,
  ) {}

  record(init: EventInit): FleetEvent {
    const { atMs, ...rest } = init;
    const event = create(FleetEventSchema, {
      ...rest,
      id: randomUUID(),
      atMs: BigInt(atMs ?? this.clock.now()),
    });
    // Kept in time order: an event that waited for its evidence (a dump taken
    // when a worker turned late) can arrive after a later one.
    let at = this.events.length;
    while (at > 0 && (this.events[at - 1]?.atMs ?? 0n) > event.atMs) at -= 1;
    this.events.splice(at, 0, event);
    if (this.events.length > this.capacity)
      this.events.splice(0, this.events.length - this.capacity);
    for (const listener of this.listeners) listener(event);
    if (this.sink && !this.closed) {
      this.batch.push(event);
      this.timer ??= this.clock.after(this.flushMs, () => this.flush());
    }
    return event;
  }

  /** Newest first. */
  list({
    workerId = "",
    kind = "",
    limit = 200,
  }: { workerId?: string; kind?: string; limit?: number } = {}): FleetEvent[] {
    const out: FleetEvent[] = [];
    for (let i = this.events.length - 1; i >= 0 && out.length < limit; i--) {
      const e = this.events[i];
      if (!e) continue;
      if (workerId && e.workerId !== workerId) continue;
      if (kind && e.kind !== kind) continue;
      out.push(e);
    }
    return out;
  }

  onEvent(listener: (event: FleetEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Flushes and stops handing events to the sink: events recorded while the
   * process shuts down (streams ending) must not reach a closed store.
   */
  close(): void {
    this.flush();
    this.closed = true;
  }

  /** Hands pending events to the sink now (also on shutdown). */
  flush(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.batch.length === 0 || !this.sink || this.closed) return;
    const batch = this.batch;
    this.batch = [];
    this.sink(batch);
  }
}
