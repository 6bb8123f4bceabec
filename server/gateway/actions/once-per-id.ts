/**
 * Requests that reuse an action id while its first request is still being
 * committed wait for that request, then see its action: reading and
 * inserting are no longer one synchronous step, so this keeps "repeating an
 * action id never acts twice".
 */
export class OncePerId<T> {
  private readonly starting = new Map<string, Promise<T>>();

  async run(id: string, fn: () => Promise<T>): Promise<T> {
    const pending = this.starting.get(id);
    if (pending) await pending.catch(() => undefined);
    const p = fn();
    this.starting.set(id, p);
    try {
      return await p;
    } finally {
      if (this.starting.get(id) === p) this.starting.delete(id);
    }
  }
}
