import { sleep, type Clock } from "../../shared/clock/clock.js";

const POLL_MS = 20;

/** Counts HTTP requests being answered, so shutdown can wait for them. */
export class InFlight {
  private count = 0;
  private lastStartMs = 0;

  constructor(private readonly clock: Clock) {}

  /** Counts `res` until it closes (a ServerResponse, or anything that says "close"). */
  track(res: { once(event: "close", listener: () => void): unknown }): void {
    this.count += 1;
    this.lastStartMs = this.clock.now();
    res.once("close", () => (this.count -= 1));
  }

  /** Marks a request that was answered at once (e.g. refused while stopping). */
  seen(): void {
    this.lastStartMs = this.clock.now();
  }

  /**
   * Resolves with how many are still running once none are and no request has
   * arrived for `quietMs` (connections the kernel accepted but Node had not
   * read yet are answered, not reset), or after `timeoutMs`.
   */
  async settled(timeoutMs: number, quietMs: number): Promise<number> {
    const deadline = this.clock.now() + timeoutMs;
    while (this.clock.now() < deadline) {
      if (this.count === 0 && this.clock.now() - this.lastStartMs >= quietMs) return 0;
      await sleep(this.clock, POLL_MS);
    }
    return this.count;
  }
}
