import type { Code, ConnectError } from "@connectrpc/connect";
import { hashKey, skipToken, useQuery, useQueryClient, type QueryKey } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { useServerStream, type StreamState } from "./use-stream";

export interface StreamedQueryOptions<M, S> {
  /** Where the folded state lives in the Query cache: a key from `query-keys.ts`. */
  queryKey: QueryKey;
  /**
   * The stream is reopened when this changes; the state under `queryKey` is
   * kept (e.g. another window or dump interval of the same worker). Defaults
   * to the query key.
   */
  streamKey?: string;
  /** Opens the server stream; must honour `signal`. */
  open: (signal: AbortSignal) => AsyncIterable<M>;
  /** The state after `message`; pure, and returns `state` itself when nothing changed. */
  fold: (state: S, message: M) => S;
  /** The state before the first message. */
  initial: S;
  /**
   * Writes to the cache (hence renders) at most once per this interval,
   * however fast messages arrive. 0 (the default): every message.
   */
  renderEveryMs?: number;
  /** Messages written at once, without waiting for the batch (e.g. a full state). */
  renderNow?: (message: M) => boolean;
  /** Errors with these codes stop the retries (e.g. NotFound for a bad id). */
  fatalCodes?: Code[];
  idleTimeoutMs?: number;
  /** False: no stream (e.g. paused); the state stays as it was. */
  enabled?: boolean;
  /** True once the state is final (e.g. the action finished): the stream is closed for good. */
  done?: (state: S) => boolean;
  /** How long the state outlives the last component that reads it (TanStack's gcTime). */
  gcTime?: number;
}

/**
 * A server stream folded into the TanStack Query cache: the one way the
 * dashboard reads a stream. The stream is `useServerStream`'s (jittered
 * backoff, idle timeout, fatal codes); the state is the cache entry under
 * `queryKey`, so any component reading that key sees the same data without
 * opening another stream.
 *
 * The entry is never fetched (`skipToken`): only the stream writes it.
 * Reading it through `useQuery` makes it an observed entry, so TanStack does
 * not collect it while it is on screen (an unobserved entry was collected
 * gcTime after it was made: issue 11, bug 8).
 */
export function useStreamedQuery<M, S>(
  options: StreamedQueryOptions<M, S>,
): { data: S; fatal: ConnectError | undefined } & StreamState {
  const { queryKey, open, fold, initial, renderEveryMs = 0, renderNow, done } = options;
  const queryClient = useQueryClient();
  const hash = hashKey(queryKey);
  const query = useQuery<S>({
    queryKey,
    queryFn: skipToken,
    staleTime: Infinity,
    ...(options.gcTime !== undefined ? { gcTime: options.gcTime } : {}),
  });
  // Folded but not yet written: the batch. Keyed, so a batch never lands under another key.
  const pending = useRef<{ hash: string; key: QueryKey; state: S } | undefined>(undefined);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const flush = () => {
    clearTimeout(timer.current);
    timer.current = undefined;
    const batch = pending.current;
    pending.current = undefined;
    if (batch) queryClient.setQueryData(batch.key, batch.state);
  };
  const current = (): S =>
    pending.current?.hash === hash
      ? pending.current.state
      : (queryClient.getQueryData<S>(queryKey) ?? initial);

  useEffect(
    () => () => {
      clearTimeout(timer.current);
      timer.current = undefined;
      pending.current = undefined;
    },
    [hash],
  );

  const stream = useServerStream(
    options.streamKey ?? hash,
    open,
    (message) => {
      if (pending.current && pending.current.hash !== hash) flush();
      pending.current = { hash, key: queryKey, state: fold(current(), message) };
      if (renderEveryMs <= 0 || renderNow?.(message)) flush();
      else timer.current ??= setTimeout(flush, renderEveryMs);
    },
    {
      ...(options.fatalCodes ? { fatalCodes: options.fatalCodes } : {}),
      ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
      enabled: options.enabled ?? true,
      ...(done ? { done: () => done(current()) } : {}),
    },
  );
  return { data: query.data ?? initial, ...stream };
}
