import type { Store } from "../store/store.js";

/**
 * Whether to route traffic to this gateway: not stopping, and the store can
 * still write (a probe write each time, so a full disk or a read-only file
 * shows here before an operator's action fails on it).
 */
export class Readiness {
  private stoppingReason: string | undefined;

  constructor(private readonly store: Pick<Store, "fatal" | "probeWrite">) {}

  /** From here on readiness is 503: the gateway is shutting down. */
  stop(reason: string): void {
    this.stoppingReason ??= reason;
  }

  get stopping(): boolean {
    return this.stoppingReason !== undefined;
  }

  async check(): Promise<{ ready: boolean; reason: string }> {
    // The store's failure first: it is why a gateway stopping for it stops.
    const fatal = this.store.fatal;
    if (fatal) return { ready: false, reason: `database unusable: ${fatal.message}` };
    if (this.stoppingReason !== undefined)
      return { ready: false, reason: `shutting down (${this.stoppingReason})` };
    try {
      await this.store.probeWrite();
      return { ready: true, reason: "ok" };
    } catch (err) {
      return { ready: false, reason: `database cannot write: ${(err as Error).message}` };
    }
  }
}
