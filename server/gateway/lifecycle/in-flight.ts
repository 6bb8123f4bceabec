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
const loopTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Counts HTTP requests being answered, so shutdown can wait for them. */
export class InFlight<R extends TrackedResponse = TrackedResponse> {
  private readonly open = new Set<R>();
  /** Connections accepted that have not sent their first request yet. */
  private readonly fresh = new Set<object>();
  private lastStartMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly clock: Clock) {}

  /** Counts `res` until it closes (a ServerResponse, or anything that says "close"). */
  track(res: R): void {
    this.open.add(res);
    this.lastStartMs = this.clock.monotonic();
    res.once("close", () => this.open.delete(res));
  }

  /**
   * Counts a new connection until its first request ({@link requestOn}), its
   * close, or `maxWaitMs`: a client that connected is about to send, and
   * closing under it would reset a request it believes sent. The bound keeps
   * a silent one (a browser's speculative connection) from holding a stop.
   */
  connected(socket: TrackedResponse, maxWaitMs: number): void {
    this.fresh.add(socket);
    this.lastStartMs = this.clock.monotonic();
    const timer = this.clock.after(maxWaitMs, () => this.fresh.delete(socket));
    socket.once("close", () => {
      timer.cancel();
      this.fresh.delete(socket);
    });
  }

  /** The connection's first request arrived: it is counted as a request from now on. */
  requestOn(socket: object): void {
    this.fresh.delete(socket);
  }

  /** Marks a request (or a connection) that was answered at once (e.g. refused while stopping). */
  seen(): void {
    this.lastStartMs = this.clock.monotonic();
  }

  /** Requests running, and new connections whose request is still to come. */
  get count(): number {
    return this.open.size + this.fresh.size;
  }

  /** The responses still running, for shutdown to answer once its grace is over. */
  running(): R[] {
    return [...this.open];
  }

  /**
   * Resolves once none are running and none arrived for `quietMs` (connections
   * the kernel accepted but Node had not read yet are answered, not reset), or
   * after `timeoutMs`. Refused requests that keep arriving (a poller, browsers
   * reconnecting) cannot hold the wait beyond `maxQuietWaitMs` after the last
   * running one ended: they are answered at once, so there is nothing to wait for.
   */
  async settled(timeoutMs: number, quietMs: number, maxQuietWaitMs = 1000): Promise<Settled> {
    const deadline = this.clock.monotonic() + timeoutMs;
    let idleSince: number | undefined;
    while (this.clock.monotonic() < deadline) {
      const now = this.clock.monotonic();
      if (this.count > 0) idleSince = undefined;
      else {
        idleSince ??= now;
        if (now - this.lastStartMs >= quietMs && (await this.stillQuiet())) {
          return { left: 0, why: "idle" };
        }
        if (now - idleSince >= maxQuietWaitMs) return { left: 0, why: "busy" };
      }
      await sleep(this.clock, POLL_MS);
    }
    return { left: this.open.size, why: this.open.size > 0 ? "grace" : "busy" };
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
    return this.count === 0 && this.lastStartMs === before;
  }
}
