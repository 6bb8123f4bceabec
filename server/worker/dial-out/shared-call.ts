/**
 * Shares one call in progress among everyone who asks while it runs: a
 * thread dump that hangs then costs one pending call, not one per request.
 * Each asker still applies its own deadline to the shared promise.
 */
export class SharedCall<T> {
  private current: Promise<T> | undefined;

  /** The call in progress, or a new one from `start` (a synchronous throw becomes a rejection). */
  call(start: () => Promise<T>): Promise<T> {
    if (this.current) return this.current;
    const call = (async () => start())();
    this.current = call;
    // Every asker may have given up by the time it settles: never unhandled.
    call
      .catch(() => undefined)
      .finally(() => {
        if (this.current === call) this.current = undefined;
      })
      .catch(() => undefined);
    return call;
  }
}
