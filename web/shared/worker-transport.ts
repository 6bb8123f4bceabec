import type { Transport } from "@connectrpc/connect";

/**
 * What a Web Worker needs to make a transport like the app's own: a
 * transport is functions (interceptors, fetch), which cannot be posted to a
 * worker, so the app describes it in data, read at each call (the operator
 * token may have changed since the last one).
 */
export interface WorkerTransportSettings {
  baseUrl: string;
  useBinaryFormat: boolean;
  /** Sent with every call, e.g. `authorization` when there is an operator token. */
  headers: Record<string, string>;
}

const described = new WeakMap<Transport, () => WorkerTransportSettings>();

/** Says how a worker can make its own transport like `transport`; returns `transport`. */
export function describeForWorkers(
  transport: Transport,
  settings: () => WorkerTransportSettings,
): Transport {
  described.set(transport, settings);
  return transport;
}

/**
 * The settings of `transport`, read now; undefined when it was never
 * described (e.g. a test's in-memory router transport), so that a worker
 * cannot reach the same server and the caller stays on the main thread.
 */
export function workerTransportSettings(transport: Transport): WorkerTransportSettings | undefined {
  return described.get(transport)?.();
}
