import type { ServerResponse } from "node:http";

const POLL_MS = 20;

/** Counts HTTP requests being answered, so shutdown can wait for them. */
export class InFlight {
  private count = 0;
  private lastStartMs = 0;

  track(res: ServerResponse): void {
    this.count += 1;
    this.lastStartMs = Date.now();
    res.once("close", () => (this.count -= 1));
  }

  /** Marks a request that was answered at once (e.g. refused while stopping). */
  seen(): void {
    this.lastStartMs = Date.now();
  }

  /**
   * Resolves with how many are still running once none are and no request has
   * arrived for `quietMs` (connections the kernel accepted but Node had not
   * read yet are answered, not reset), or after `timeoutMs`.
   */
  async settled(timeoutMs: number, quietMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.count === 0 && Date.now() - this.lastStartMs >= quietMs) return 0;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    return this.count;
  }
}
