import type { ServerResponse } from "node:http";

/** Counts HTTP requests being answered, so shutdown can wait for them. */
export class InFlight {
  private count = 0;
  private readonly idle = new Set<() => void>();

  track(res: ServerResponse): void {
    this.count += 1;
    res.once("close", () => {
      this.count -= 1;
      if (this.count === 0) for (const wake of this.idle) wake();
    });
  }

  /** Resolves with how many are left once none are, or after `timeoutMs`. */
  settled(timeoutMs: number): Promise<number> {
    if (this.count === 0) return Promise.resolve(0);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.idle.delete(done);
        resolve(this.count);
      };
      const timer = setTimeout(done, timeoutMs);
      this.idle.add(done);
    });
  }
}
