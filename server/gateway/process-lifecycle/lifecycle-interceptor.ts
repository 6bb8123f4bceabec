import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { StoreFatalError, storeFailureForCallers } from "../store/store-errors.js";

/** What a caller is told when the store failed under its request. */
function storeUnavailable(err: StoreFatalError): ConnectError {
  return new ConnectError(storeFailureForCallers(err), Code.Unavailable);
}

/**
 * Browser API concerns that cut across services:
 * - a storage failure reaches the caller as `Unavailable` saying so, not as a
 *   bare "internal error" or a dropped connection (the process exits after);
 * - when `stopping` aborts, every server stream ends with `Unavailable`, so
 *   clients reconnect (to another gateway if there is one) instead of seeing
 *   a normal end or a reset.
 */
export function createLifecycleInterceptor(stopping: AbortSignal): Interceptor {
  const toClient = (err: unknown) => (err instanceof StoreFatalError ? storeUnavailable(err) : err);
  const shuttingDown = () =>
    new ConnectError("the gateway is shutting down; reconnect", Code.Unavailable);
  return (next) => async (req) => {
    let res;
    try {
      res = await next(req);
    } catch (err) {
      throw toClient(err);
    }
    if (!res.stream) return res;
    const inner = res.message[Symbol.asyncIterator]();
    // One listener per pending read, removed when the read settles: racing
    // each read against one long-lived promise would leave a listener on the
    // gateway-wide signal per stream, and a reaction (holding the message) on
    // that promise per message sent, for the life of the process.
    const nextOrStop = () =>
      new Promise<Awaited<ReturnType<typeof inner.next>>>((resolve, reject) => {
        if (stopping.aborted) {
          reject(shuttingDown());
          return;
        }
        const fail = () => reject(shuttingDown());
        stopping.addEventListener("abort", fail, { once: true });
        inner.next().then(
          (v) => {
            stopping.removeEventListener("abort", fail);
            resolve(v);
          },
          (err: unknown) => {
            stopping.removeEventListener("abort", fail);
            // Passed through as the handler threw it; toClient maps it below.
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
            reject(err);
          },
        );
      });
    async function* guarded() {
      try {
        for (;;) {
          const next = await nextOrStop();
          if (next.done) return;
          yield next.value;
        }
      } catch (err) {
        throw toClient(err);
      } finally {
        // Lets the handler run its own cleanup; not awaited, it may be
        // parked until the aborted request signal wakes it.
        void inner.return?.().catch(() => undefined);
      }
    }
    return { ...res, message: guarded() };
  };
}
