import { Code, ConnectError, type StreamResponse } from "@connectrpc/connect";
import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { createLifecycleInterceptor } from "./lifecycle-interceptor.js";

type Next = Parameters<ReturnType<typeof createLifecycleInterceptor>>[0];
type Req = Parameters<Next>[0];

/** A server-stream response whose messages come from `gen`. */
function streamOf(gen: AsyncGenerator): Next {
  // The interceptor only reads `stream` and `message`; the rest of a real
  // response does not matter here.
  return () => Promise.resolve({ stream: true, message: gen } as unknown as StreamResponse);
}

async function* messages(n: number) {
  for (let i = 0; i < n; i++) {
    await Promise.resolve();
    yield { i };
  }
}

describe("lifecycle interceptor", () => {
  it("leaves no listener on the gateway's stopping signal once streams end", async () => {
    const stopping = new AbortController();
    const interceptor = createLifecycleInterceptor(stopping.signal);
    for (let s = 0; s < 20; s++) {
      const res = (await interceptor(streamOf(messages(50)))({} as Req)) as StreamResponse;
      let seen = 0;
      for await (const message of res.message) {
        expect(message).toBeDefined();
        seen++;
        // At most the one read in flight holds a listener.
        expect(getEventListeners(stopping.signal, "abort").length).toBeLessThanOrEqual(1);
      }
      expect(seen).toBe(50);
    }
    expect(getEventListeners(stopping.signal, "abort")).toHaveLength(0);
  });

  it("ends a parked stream with Unavailable when the gateway stops", async () => {
    const stopping = new AbortController();
    const interceptor = createLifecycleInterceptor(stopping.signal);
    async function* parked() {
      yield { first: true };
      await new Promise(() => undefined);
    }
    const res = (await interceptor(streamOf(parked()))({} as Req)) as StreamResponse;
    const it = res.message[Symbol.asyncIterator]();
    await it.next();
    const pending = it.next();
    stopping.abort();
    const err = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unavailable);
    expect(getEventListeners(stopping.signal, "abort")).toHaveLength(0);
  });
});
