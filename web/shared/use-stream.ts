import { Code, ConnectError } from "@connectrpc/connect";
import { useEffect, useLayoutEffect, useRef, useState } from "react";

/** "ended": `done` said the stream has nothing more to say, so it is not reopened. */
export type StreamStatus = "connecting" | "live" | "reconnecting" | "ended";

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
  /** False: no stream is open (e.g. paused); true again reopens it. */
  enabled?: boolean;
  /**
   * Asked before each open and after each message: true means the stream has
   * said all it will (e.g. the action it follows has finished), so it is
   * closed and not reopened. Read from a ref, like `onMessage`.
   */
  done?: () => boolean;
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
  {
    idleTimeoutMs = 15_000,
    maxBackoffMs = 10_000,
    fatalCodes = [],
    enabled = true,
    done,
  }: StreamOptions = {},
): StreamState & { fatal: ConnectError | undefined } {
  const [state, setState] = useState<StreamState & { fatal: ConnectError | undefined }>({
    status: "connecting",
    error: undefined,
    lastMessageAtMs: 0,
    fatal: undefined,
  });
  const handlers = useRef({ open, onMessage, done });
  useLayoutEffect(() => {
    handlers.current = { open, onMessage, done };
  });
  const fatalKey = fatalCodes.join(",");

  useEffect(() => {
    if (!enabled) return;
    const stop = new AbortController();
    // A function, not the property, so narrowing does not assume it never changes.
    const stopped = () => stop.signal.aborted;
    let attempt = 0;
    const fatal = new Set(fatalKey ? fatalKey.split(",").map(Number) : []);
    const finished = () => {
      if (!handlers.current.done?.()) return false;
      setState((s) => (s.status === "ended" ? s : { ...s, status: "ended", error: undefined }));
      return true;
    };
    void (async () => {
      while (!stop.signal.aborted) {
        if (finished()) return;
        const round = new AbortController();
        const abortRound = () => round.abort();
        stop.signal.addEventListener("abort", abortRound);
        let idle = setTimeout(abortRound, idleTimeoutMs);
        try {
          for await (const message of handlers.current.open(round.signal)) {
            // A message that raced the key change belongs to the old key: drop it.
            if (stopped()) return;
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
            if (finished()) return;
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
  }, [key, idleTimeoutMs, maxBackoffMs, fatalKey, enabled]);

  return state;
}
