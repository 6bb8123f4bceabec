import type { Clock, Timer } from "../../shared/clock/clock.js";
import { ManageClient, decodeHeartbeat } from "./manage-client.js";
import type { CallFailureKind, CallResult, UnaryCall } from "./unary-call.js";
import { DueHeap } from "./due-heap.js";

/** One heartbeat's outcome, as it crosses from a probe thread to the main thread. */
export interface BeatRecord {
  slot: number;
  /** Wall-clock time the outcome was known. */
  atMs: number;
  rttMs: number;
  /** `ok`, or why the call failed. */
  outcome: "ok" | CallFailureKind;
  reason: string;
  /** The heartbeat's metrics; absent when identical to the previous answer's. */
  metrics?: Record<string, string>;
  /** First beat on a new connection (its RTT already excludes connection set-up). */
  firstOnConnection: boolean;
}

export interface ProbeShardOptions {
  intervalMs: number;
  deadlineMs: number;
  maxBackoffMs: number;
  /** The scheduling slot: due beats start, and deadlines expire, once per tick. */
  tickMs: number;
  /** Monotonic time schedules beats and deadlines; wall time stamps records. */
  clock: Clock;
  onRecord: (record: BeatRecord) => void;
  /** How a target is called (default: a ManageClient over HTTP/2); unit tests pass a fake. */
  connect?: (host: string, port: number) => BeatClient;
}

/** The part of a Manage client a shard uses. */
export interface BeatClient {
  heartbeatRaw(
    deadlineMs: number,
    ownTimer: boolean,
    done: (result: CallResult<Uint8Array>) => void,
  ): Pick<UnaryCall, "isSettled" | "deadlineAt" | "expire">;
  close(): void;
}

interface Entry {
  slot: number;
  client: BeatClient;
  /** Monotonic time the next beat is due; NaN while a call is in flight. */
  dueAt: number;
  /** When the beat in flight was due: the next one is due at least one interval later. */
  startedDueAt: number;
  /**
   * This worker's phase: its beats are due at `phase + k × interval`, so a
   * fleet that was knocked into step (a hand-over that probes many workers at
   * once, a pause of the whole machine) spreads out again by itself.
   */
  phase: number;
  inFlight: boolean;
  backoffMs: number;
  /** The last answer's bytes: an identical answer is not decoded again. */
  lastAnswer: Uint8Array | undefined;
  removed: boolean;
}

/**
 * Probes a share of the fleet from one event loop, with batched timers: one
 * tick per slot starts every beat due in it and expires every call past its
 * deadline, instead of a timer per worker and per call. Deadlines are uniform,
 * so calls expire in the order they started (a FIFO, not a heap).
 *
 * Liveness is judged elsewhere: a shard only reports each beat's outcome.
 */
export class ProbeShard {
  private readonly entries = new Map<number, Entry>();
  private readonly due = new DueHeap<Entry>();
  private deadlines: Array<ReturnType<BeatClient["heartbeatRaw"]>> = [];
  private deadlineHead = 0;
  private ticker: Timer | undefined;
  private readonly clock: Clock;
  private readonly connect: (host: string, port: number) => BeatClient;

  constructor(private readonly opts: ProbeShardOptions) {
    this.clock = opts.clock;
    this.connect = opts.connect ?? ((host, port) => new ManageClient({ host, port }));
  }

  get size(): number {
    return this.entries.size;
  }

  add(slot: number, host: string, port: number, delayMs: number): void {
    this.remove(slot);
    const dueAt = this.clock.monotonic() + delayMs;
    const entry: Entry = {
      slot,
      client: this.connect(host, port),
      dueAt,
      startedDueAt: 0,
      phase: dueAt,
      inFlight: false,
      backoffMs: 0,
      lastAnswer: undefined,
      removed: false,
    };
    this.entries.set(slot, entry);
    this.due.push(entry.dueAt, entry);
    this.ticker ??= this.clock.every(this.opts.tickMs, () => this.tick());
  }

  remove(slot: number): void {
    const entry = this.entries.get(slot);
    if (!entry) return;
    entry.removed = true;
    entry.client.close();
    this.entries.delete(slot);
    if (this.entries.size === 0) this.stopTicker();
  }

  /** Beat at the next tick (unless a call is in flight: at most one per worker). */
  probeNow(slot: number): void {
    const entry = this.entries.get(slot);
    if (!entry || entry.inFlight) return;
    entry.dueAt = this.clock.monotonic();
    this.due.push(entry.dueAt, entry);
  }

  stop(): void {
    this.stopTicker();
    for (const entry of this.entries.values()) {
      entry.removed = true;
      entry.client.close();
    }
    this.entries.clear();
    this.due.clear();
  }

  private stopTicker(): void {
    this.ticker?.cancel();
    this.ticker = undefined;
  }

  private tick(): void {
    const now = this.clock.monotonic();
    while (this.deadlineHead < this.deadlines.length) {
      const call = this.deadlines[this.deadlineHead];
      if (call && !call.isSettled && call.deadlineAt > now) break;
      this.deadlineHead += 1;
      call?.expire();
    }
    if (this.deadlineHead > 1024 && this.deadlineHead * 2 > this.deadlines.length) {
      this.deadlines = this.deadlines.slice(this.deadlineHead);
      this.deadlineHead = 0;
    }
    while (this.due.peekDue() <= now) {
      const next = this.due.pop();
      if (!next) break;
      const entry = next.item;
      // Stale heap items: removed workers, and beats rescheduled by probeNow.
      if (entry.removed || entry.inFlight || next.dueAt !== entry.dueAt) continue;
      this.beat(entry);
    }
  }

  private beat(entry: Entry): void {
    entry.inFlight = true;
    entry.startedDueAt = entry.dueAt;
    entry.dueAt = NaN;
    const call = entry.client.heartbeatRaw(this.opts.deadlineMs, false, (result) =>
      this.onResult(entry, result),
    );
    if (!call.isSettled) this.deadlines.push(call);
  }

  private onResult(entry: Entry, result: CallResult<Uint8Array>): void {
    entry.inFlight = false;
    if (entry.removed) return;
    const record: BeatRecord = {
      slot: entry.slot,
      atMs: this.clock.now(),
      rttMs: result.rttMs,
      outcome: "ok",
      reason: "",
      firstOnConnection: result.ok && result.firstOnConnection,
    };
    let failure: CallFailureKind | undefined;
    if (result.ok) {
      const same = entry.lastAnswer !== undefined && sameBytes(entry.lastAnswer, result.value);
      if (!same) {
        const decoded = decodeHeartbeat(result);
        if (decoded.ok) {
          record.metrics = decoded.value;
          entry.lastAnswer = Uint8Array.from(result.value); // not a view into a socket chunk
        } else {
          failure = decoded.kind;
          record.reason = decoded.reason;
        }
      }
    } else {
      failure = result.kind;
      record.reason = result.reason;
    }
    if (failure) {
      record.outcome = failure;
      entry.lastAnswer = undefined;
    }
    if (failure === "connection" || failure === "protocol") {
      entry.client.close();
      entry.backoffMs = Math.min(
        this.opts.maxBackoffMs,
        Math.max(this.opts.intervalMs, entry.backoffMs * 2),
      );
    } else if (!failure) {
      entry.backoffMs = 0;
    }
    entry.dueAt =
      entry.backoffMs > 0
        ? // ±20% jitter so a fleet that vanished together does not return in lockstep.
          this.clock.monotonic() + entry.backoffMs * (0.8 + Math.random() * 0.4)
        : this.nextInPhase(entry);
    this.due.push(entry.dueAt, entry);
    this.opts.onRecord(record);
  }

  /**
   * The worker's next due time: its first own due time (phase + k × interval)
   * at least one interval after the beat that just ended was due, or, if that
   * is already past (a late answer, a timeout at deadline = interval), its
   * latest one: it beats at once, with no burst of catch-up beats, and stays
   * in its phase.
   *
   * Without the phase, a beat run out of turn (probeNow) or late set the next
   * one "one interval later", and workers pushed together stayed together for
   * good. Measured at 2,000 workers: the gateway probeNow'd its whole static
   * fleet at start, each probe thread's 1,000 beats then left within ~15 ms
   * of each other every second, and the peers' queues made the median round
   * trip 15-20 ms (p99 26-35 ms) where a spread loop saw 0.4 ms.
   */
  private nextInPhase(entry: Entry): number {
    const interval = this.opts.intervalMs;
    const sinceStart = entry.startedDueAt + interval - entry.phase;
    const owed = entry.phase + Math.ceil(sinceStart / interval) * interval;
    const latest =
      entry.phase + Math.floor((this.clock.monotonic() - entry.phase) / interval) * interval;
    return Math.max(owed, latest);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
