import { once } from "node:events";
import { connect, type AddressInfo, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../shared/clock/clock.js";
import { StoreFatalError, storeFailureForCallers } from "../store/store-errors.js";
import { createEdgeListeners, type EdgeListeners } from "./edge-listeners.js";

let listeners: EdgeListeners | undefined;
afterEach(async () => {
  await listeners?.close();
  listeners = undefined;
});

/** Real listeners on loopback whose handler would say "ok" to everything. */
async function started(): Promise<{ edge: EdgeListeners; base: string }> {
  const edge = (listeners = createEdgeListeners(
    { http: (_req, res) => res.end("ok\n"), grpc: (_req, res) => res.end() },
    systemClock,
  ));
  await new Promise<void>((resolve) => edge.http.listen(0, "127.0.0.1", resolve));
  const { port } = edge.http.address() as AddressInfo;
  return { edge, base: `http://127.0.0.1:${port}` };
}

const get = async (url: string) => {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, text: await res.text(), retryAfter: res.headers.get("retry-after") };
};

describe("requests refused while the gateway stops", () => {
  it("say it is shutting down, with Retry-After", async () => {
    const { edge, base } = await started();
    expect(await get(`${base}/readyz`)).toMatchObject({ status: 200, text: "ok\n" });
    edge.refuseNew();
    const refused = await get(`${base}/readyz`);
    expect(refused).toMatchObject({ status: 503, retryAfter: "1" });
    // A Connect error body: the dashboard's client reads Unavailable with this message.
    expect(JSON.parse(refused.text)).toEqual({
      code: "unavailable",
      message: "the gateway is shutting down; retry (here once it is back, or on another gateway)",
    });
  });

  // Issue 19 item 8: on a full disk /readyz said "the gateway is shutting down".
  it("name the store failure that stops it, on /readyz and everywhere else; the first reason stays", async () => {
    const { edge, base } = await started();
    const full = new StoreFatalError("create snapshot: database or disk is full", "SQLITE_FULL");
    edge.refuseNew(storeFailureForCallers(full));
    edge.refuseNew(); // SIGTERM during the fatal grace
    for (const path of ["/readyz", "/stallwatch.v1.SnapshotService/CreateSnapshot"]) {
      const answer = await get(`${base}${path}`);
      expect(answer.status).toBe(503);
      expect((JSON.parse(answer.text) as { message: string }).message).toMatch(
        /^the gateway cannot write to its database \(SQLITE_FULL\) and is restarting/,
      );
    }
  });
});

/** Reads what the server says on a raw socket until it closes: the status line, or how it broke. */
function answerOn(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (text += chunk));
    socket.once("error", (err: NodeJS.ErrnoException) =>
      resolve(`error:${err.code ?? err.message}`),
    );
    socket.once("close", () => {
      const status = /^HTTP\/1\.1 (\d+)/.exec(text)?.[1];
      const retry = /\r\nretry-after: \d+\r\n/i.test(text) ? "+retry-after" : "";
      resolve(status ? `${status}${retry}` : `closed without an answer`);
    });
  });
}

describe("closing the listeners (issue 19 item 7)", () => {
  // The close destroyed every connection a second after it began: a client
  // whose request was still on its way (a loaded machine) saw ECONNRESET.
  it("answers a connection accepted before the close whose request comes after it began", async () => {
    const { edge, base } = await started();
    const socket = connect(Number(new URL(base).port), "127.0.0.1");
    await once(socket, "connect");
    const answer = answerOn(socket);
    await new Promise((r) => setTimeout(r, 50)); // accepted by the server
    edge.refuseNew();
    const closing = edge.close();
    // A slow client: longer than the second the close used to give everyone.
    await new Promise((r) => setTimeout(r, 1500));
    socket.write("GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    expect(await answer).toBe("503+retry-after");
    await closing;
    listeners = undefined;
  });

  it("refuses new connections once it closes, and closes kept-alive ones that sit idle", async () => {
    const { edge, base } = await started();
    const port = Number(new URL(base).port);
    const kept = connect(port, "127.0.0.1");
    await once(kept, "connect");
    const keptAnswer = answerOn(kept);
    kept.write("GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    await new Promise((r) => setTimeout(r, 100));
    edge.refuseNew();
    await edge.close();
    listeners = undefined;
    expect(await keptAnswer).toBe("200"); // its one request answered, then closed
    const late = connect(port, "127.0.0.1");
    const refused = await new Promise<string>((resolve) => {
      late.once("connect", () => resolve("connected"));
      late.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    expect(refused).toBe("ECONNREFUSED");
  });
});
