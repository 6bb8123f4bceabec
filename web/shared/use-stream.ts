import { Code, ConnectError } from "@connectrpc/connect";
import { useEffect, useLayoutEffect, useRef, useState } from "react";

export type StreamStatus = "connecting" | "live" | "reconnecting";

export interface StreamState {
  status: StreamStatus;
  /** The last error, while reconnecting. */
  error: ConnectError | undefined;
  /** When the last message arrived (0 = never). */
  lastMessageAtMs: number;
}

export interface StreamOptions {
  /** No message for this long = the stream is considered cut and reopened. */
  idleTimeoutMs?: number;
  maxBackoffMs?: number;
  /** Errors with these codes are not retried (e.g. NotFound for a bad id). */
  fatalCodes?: Code[];
}

/**
 * Keeps a server stream open while the component is mounted: reopens it with
 * jittered exponential backoff when it fails or goes quiet, and never retries
 * a cancel. `onMessage` is read from a ref, so it may change every render.
 * `key` reopens the stream when it changes (e.g. another worker id).
 */
export function useServerStream<T>(
  key: string,
  open: (signal: AbortSignal) => AsyncIterable<T>,
  onMessage: (message: T) => void,
  { idleTimeoutMs = 15_000, maxBackoffMs = 10_000, fatalCodes = [] }: StreamOptions = {},
): StreamState & { fatal: ConnectError | undefined } {
  const [state, setState] = useState<StreamState & { fatal: ConnectError | undefined }>({
    status: "connecting",
    error: undefined,
    lastMessageAtMs: 0,
    fatal: undefined,
  });
  const handlers = useRef({ open, onMessage });
  useLayoutEffect(() => {
    handlers.current = { open, onMessage };
  });
  const fatalKey = fatalCodes.join(",");

  useEffect(() => {
    const stop = new AbortController();
    // A function, not the property, so narrowing does not assume it never changes.
    const stopped = () => stop.signal.aborted;
    let attempt = 0;
    const fatal = new Set(fatalKey ? fatalKey.split(",").map(Number) : []);
    void (async () => {
      while (!stop.signal.aborted) {
        const round = new AbortController();
        const abortRound = () => round.abort();
        stop.signal.addEventListener("abort", abortRound);
        let idle = setTimeout(abortRound, idleTimeoutMs);
        try {
          for await (const message of handlers.current.open(round.signal)) {
            clearTimeout(idle);
            idle = setTimeout(abortRound, idleTimeoutMs);
            attempt = 0;
            setState((s) =>
              s.status === "live" && s.lastMessageAtMs > Date.now() - 1000
                ? s
                : {
                    status: "live",
                    error: undefined,
                    lastMessageAtMs: Date.now(),
                    fatal: undefined,
                  },
            );
            handlers.current.onMessage(message);
          }
          throw new ConnectError("the server ended the stream", Code.Unavailable);
        } catch (err) {
          if (stopped()) return;
          const error = ConnectError.from(err);
          if (fatal.has(error.code)) {
            setState((s) => ({ ...s, status: "reconnecting", error, fatal: error }));
            return;
          }
          setState((s) => ({ ...s, status: "reconnecting", error }));
        } finally {
          clearTimeout(idle);
          stop.signal.removeEventListener("abort", abortRound);
          round.abort();
        }
        attempt += 1;
        const backoff = Math.min(maxBackoffMs, 250 * 2 ** attempt) * (0.8 + Math.random() * 0.4);
        await new Promise((r) => setTimeout(r, backoff));
      }
    })();
    return () => stop.abort();
  }, [key, idleTimeoutMs, maxBackoffMs, fatalKey]);

  return state;
}
