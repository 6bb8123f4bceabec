import { sleep, type Clock } from "../../shared/clock/clock.js";

const POLL_MS = 20;

/** What a tracked response must offer: its state, and a way to be answered early. */
export interface TrackedResponse {
  once(event: "close", listener: () => void): unknown;
}

/** How the wait for requests in flight ended. */
export interface Settled {
  /** Requests still running (0 unless the grace ran out). */
  left: number;
  /**
   * "idle": none running and none arriving; "busy": none running, but refused
   * ones kept arriving, so the quiet time was cut short; "grace": some were
   * still running when the grace ran out.
   */
  why: "idle" | "busy" | "grace";
}

/** Yields to the event loop for one full turn, I/O poll included. */
export const loopTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Counts what shutdown must answer before the listener closes: requests the
 * gateway is working on, refusals (503) still being written, and connections
 * accepted that have not sent their first request yet.
 *
 * Only the first kind holds the drain ({@link settled}): a refusal is answered
 * at once, so refused requests that keep coming (a balancer's /readyz, browsers
 * reconnecting) must not keep a stop waiting for its grace. They are still
 * answered, not reset: {@link drained} waits for them once the listener stopped
 * accepting.
 */
export class InFlight<R extends TrackedResponse = TrackedResponse> {
  private readonly open = new Set<R>();
  private readonly refusals = new Set<TrackedResponse>();
  /** Connections accepted that have not sent their first request yet, by when. */
  private readonly fresh = new Map<object, number>();
  private lastStartMs = Number.NEGATIVE_INFINITY;
  private stopStartMs: number | undefined;

  /**
   * @param freshWaitMs how long a connection that has sent nothing yet is
   *   waited for: from its accept, or from the stop's start if it came before.
   */
  constructor(
    private readonly clock: Clock,
    private readonly freshWaitMs = 3000,
  ) {}

  /**
   * The stop began: connections accepted before now that have sent nothing
   * get their wait from now. A loaded client may have connected seconds
   * before it writes; a wait counted from the accept had run out for those
   * by the close, and they were reset with their request on its way.
   */
  stopping(): void {
    this.stopStartMs ??= this.clock.monotonic();
  }

  /** Counts `res` until it closes (a ServerResponse, or anything that says "close"). */
  track(res: R): void {
    this.open.add(res);
    this.lastStartMs = this.clock.monotonic();
    res.once("close", () => this.open.delete(res));
  }

  /**
   * Counts a refusal (503 while stopping) until its answer is written: it
   * must not be cut by the close, but it holds no drain (see the class).
   */
  refused(res: TrackedResponse): void {
    this.refusals.add(res);
    this.lastStartMs = this.clock.monotonic();
    res.once("close", () => this.refusals.delete(res));
  }

  /**
   * Counts a new connection until its first request ({@link requestOn}), its
   * close, or its wait (see the constructor and {@link stopping}): a client
   * that connected is about to send, and closing under it would reset a
   * request it believes sent. The wait keeps a silent one (a browser's
   * speculative connection) from holding a stop for long.
   */
  connected(socket: TrackedResponse): void {
    this.fresh.set(socket, this.clock.monotonic());
    this.lastStartMs = this.clock.monotonic();
    socket.once("close", () => this.fresh.delete(socket));
  }

  /** The connection's first request arrived: it is counted as a request from now on. */
  requestOn(socket: object): void {
    this.fresh.delete(socket);
  }

  /** Requests the gateway is working on (refusals and silent connections not included). */
  get count(): number {
    return this.open.size;
  }

  /** Everything the close must still answer: requests, refusals being written, silent connections. */
  get unanswered(): number {
    return this.open.size + this.refusals.size + this.waitedFor();
  }

  /** Silent connections still within their wait (the others are let go). */
  private waitedFor(): number {
    const now = this.clock.monotonic();
    let n = 0;
    for (const acceptedMs of this.fresh.values())
      if (now < Math.max(acceptedMs, this.stopStartMs ?? acceptedMs) + this.freshWaitMs) n += 1;
    return n;
  }

  /** The responses still running, for shutdown to answer once its grace is over. */
  running(): R[] {
    return [...this.open];
  }

  /**
   * Resolves once no request is running and nothing arrived for `quietMs`
   * ("idle"), or after `timeoutMs` ("grace"). Refused requests and new
   * connections that keep arriving (a poller, browsers reconnecting) cannot
   * hold the wait beyond `maxQuietWaitMs` after the last running one ended
   * ("busy"): they are answered at once, so there is nothing to wait for.
   */
  async settled(timeoutMs: number, quietMs: number, maxQuietWaitMs = 1000): Promise<Settled> {
    const deadline = this.clock.monotonic() + timeoutMs;
    let idleSince: number | undefined;
    while (this.clock.monotonic() < deadline) {
      const now = this.clock.monotonic();
      if (this.open.size > 0) idleSince = undefined;
      else {
        idleSince ??= now;
        if (
          this.unanswered === 0 &&
          now - this.lastStartMs >= quietMs &&
          (await this.stillQuiet())
        ) {
          return { left: 0, why: "idle" };
        }
        if (now - idleSince >= maxQuietWaitMs) return { left: 0, why: "busy" };
      }
      await sleep(this.clock, POLL_MS);
    }
    return { left: this.open.size, why: this.open.size > 0 ? "grace" : "busy" };
  }

  /**
   * For the close, once the listener accepts no more: resolves once every
   * request, refusal and accepted connection was answered (a silent
   * connection counts until its first request or its wait is over), or after
   * `timeoutMs`, with how many were left.
   */
  async drained(timeoutMs: number): Promise<number> {
    const deadline = this.clock.monotonic() + timeoutMs;
    for (;;) {
      // A request read in the next turns (it waited behind a busy loop) counts too.
      if (this.unanswered === 0 && (await this.stillQuiet())) return 0;
      if (this.clock.monotonic() >= deadline) return this.unanswered;
      await sleep(this.clock, POLL_MS);
    }
  }

  /**
   * A timer can fire right after a long synchronous stretch, before the I/O
   * that waited behind it was read: two more loop turns (accept, then read)
   * must bring no new request for the quiet to count.
   */
  private async stillQuiet(): Promise<boolean> {
    const before = this.lastStartMs;
    await loopTurn();
    await loopTurn();
    return this.unanswered === 0 && this.lastStartMs === before;
  }
}
