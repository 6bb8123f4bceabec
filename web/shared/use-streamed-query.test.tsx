// @vitest-environment jsdom
import { Code, ConnectError } from "@connectrpc/connect";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, cleanup, renderHook } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useStreamedQuery, type StreamedQueryOptions } from "./use-streamed-query";

/**
 * A server stream the test drives: `push` a message, `fail` with an error,
 * `end` it. Each `open` makes a new connection; `opened` counts them.
 */
function fakeServer<M>() {
  let connection:
    | { queue: M[]; wake: () => void; error?: ConnectError; ended?: boolean; signal: AbortSignal }
    | undefined;
  const server = {
    opened: 0,
    get open() {
      return connection !== undefined && !connection.signal.aborted;
    },
    connect: (signal: AbortSignal): AsyncIterable<M> => {
      server.opened += 1;
      const c = { queue: [] as M[], wake: () => undefined, signal } as NonNullable<
        typeof connection
      >;
      connection = c;
      return (async function* () {
        while (!signal.aborted) {
          const next = c.queue.shift();
          if (next !== undefined) {
            yield next;
            continue;
          }
          if (c.error !== undefined) throw c.error;
          if (c.ended) return;
          await new Promise<void>((resolve) => {
            c.wake = resolve;
            signal.addEventListener("abort", () => resolve(), { once: true });
          });
        }
        throw new ConnectError("aborted", Code.Canceled);
      })();
    },
    push: (m: M) => {
      connection?.queue.push(m);
      connection?.wake();
    },
    fail: (code: Code) => {
      if (!connection) return;
      connection.error = new ConnectError("test failure", code);
      connection.wake();
    },
  };
  return server;
}

const sum = (state: number[], n: number) => [...state, n];
const KEY = ["stallwatch", "test", "numbers"] as const;

function setup(options: Partial<StreamedQueryOptions<number, number[]>> = {}) {
  const server = fakeServer<number>();
  const queryClient = new QueryClient();
  const wrapper = ({ children }: { children: ReactNode }) => (
    <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
  );
  const hook = renderHook(
    (props: Partial<StreamedQueryOptions<number, number[]>>) =>
      useStreamedQuery<number, number[]>({
        queryKey: KEY,
        open: (signal) => server.connect(signal),
        fold: sum,
        initial: [],
        ...options,
        ...props,
      }),
    { wrapper, initialProps: {} },
  );
  return { server, queryClient, hook };
}

const advance = (ms: number) => act(() => vi.advanceTimersByTimeAsync(ms));

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe("useStreamedQuery", () => {
  it("folds messages in order into the cache entry under its key", async () => {
    const { server, queryClient, hook } = setup();
    await advance(1);
    for (const n of [3, 1, 2]) server.push(n);
    await advance(1);
    expect(hook.result.current.data).toEqual([3, 1, 2]);
    expect(hook.result.current.status).toBe("live");
    // The state is the cache's: anyone reading the key sees it.
    expect(queryClient.getQueryData(KEY)).toEqual([3, 1, 2]);
  });

  it("writes at most once per renderEveryMs, and at once for renderNow messages", async () => {
    const { server, queryClient, hook } = setup({
      renderEveryMs: 300,
      renderNow: (n) => n === 0,
    });
    await advance(1);
    const writes = vi.fn();
    queryClient.getQueryCache().subscribe((e) => {
      if (e.type === "updated" && e.action.type === "success") writes();
    });
    server.push(0);
    await advance(1);
    expect(hook.result.current.data).toEqual([0]);
    server.push(1);
    server.push(2);
    await advance(100);
    server.push(3);
    await advance(100);
    expect(hook.result.current.data).toEqual([0]); // still batching
    await advance(150);
    expect(hook.result.current.data).toEqual([0, 1, 2, 3]);
    expect(writes).toHaveBeenCalledTimes(2);
  });

  it("reopens after an error with backoff and keeps folding onto what it had", async () => {
    const { server, hook } = setup();
    await advance(1);
    server.push(1);
    await advance(1);
    server.fail(Code.Unavailable);
    await advance(1);
    expect(hook.result.current.status).toBe("reconnecting");
    expect(hook.result.current.error?.code).toBe(Code.Unavailable);
    expect(hook.result.current.data).toEqual([1]); // stale data stays on screen
    expect(server.opened).toBe(1);
    await advance(700); // first backoff: 500 ms ± 20 %
    expect(server.opened).toBe(2);
    server.push(2);
    await advance(1);
    expect(hook.result.current.data).toEqual([1, 2]);
    expect(hook.result.current.status).toBe("live");
  });

  it("reopens a stream that goes quiet past the idle timeout", async () => {
    const { server } = setup({ idleTimeoutMs: 1_000 });
    await advance(1);
    expect(server.opened).toBe(1);
    await advance(1_000 + 700);
    expect(server.opened).toBe(2);
  });

  it("stops retrying on a fatal code and says why", async () => {
    const { server, hook } = setup({ fatalCodes: [Code.NotFound] });
    await advance(1);
    server.fail(Code.NotFound);
    await advance(60_000);
    expect(server.opened).toBe(1);
    expect(hook.result.current.fatal?.code).toBe(Code.NotFound);
  });

  it("closes the stream for good once done, and never opens one that is done already", async () => {
    const { server, hook } = setup({ done: (s) => s.includes(9) });
    await advance(1);
    server.push(9);
    await advance(1);
    expect(hook.result.current.status).toBe("ended");
    expect(server.open).toBe(false);
    await advance(60_000);
    expect(server.opened).toBe(1);

    hook.rerender({ streamKey: "again" });
    await advance(60_000);
    expect(server.opened).toBe(1);
  });

  it("opens nothing while disabled, keeps the state, and reopens when enabled", async () => {
    const { server, hook } = setup();
    await advance(1);
    server.push(1);
    await advance(1);
    hook.rerender({ enabled: false });
    await advance(1);
    expect(server.open).toBe(false);
    await advance(60_000);
    expect(server.opened).toBe(1);
    expect(hook.result.current.data).toEqual([1]);
    hook.rerender({ enabled: true });
    await advance(1);
    expect(server.opened).toBe(2);
  });

  it("reopens on a new streamKey and keeps the state under the same queryKey", async () => {
    const { server, hook } = setup({ streamKey: "a" });
    await advance(1);
    server.push(1);
    await advance(1);
    hook.rerender({ streamKey: "b" });
    await advance(1);
    expect(server.opened).toBe(2);
    expect(hook.result.current.data).toEqual([1]);
    server.push(2);
    await advance(1);
    expect(hook.result.current.data).toEqual([1, 2]);
  });

  it("starts from the initial state under another queryKey", async () => {
    const { server, hook } = setup();
    await advance(1);
    server.push(1);
    await advance(1);
    hook.rerender({ queryKey: ["stallwatch", "test", "other"] });
    await advance(1);
    expect(hook.result.current.data).toEqual([]);
    server.push(2);
    await advance(1);
    expect(hook.result.current.data).toEqual([2]);
  });
});
