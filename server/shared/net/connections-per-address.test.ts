import http2 from "node:http2";
import { connect, type AddressInfo, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { RefusedConnection } from "./connections-per-address.js";
import { createWorkerH2Server } from "./worker-h2-server.js";

const servers: http2.Http2Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(
    servers.splice(0).map((s) => new Promise((resolve) => s.close(() => resolve(undefined)))),
  );
});

/** A worker listener on 127.0.0.1 that answers 200, capped at `max` connections per address. */
async function listener(max: number) {
  const refused: RefusedConnection[] = [];
  const server = createWorkerH2Server((_req, res) => res.end("ok"), {
    maxConnectionsPerAddress: max,
    onRefused: (r) => refused.push(r),
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, refused };
}

/** A TCP connection from `from` (another loopback address stands for another host). */
function dial(port: number, from: string): Promise<Socket> {
  const socket = connect({ port, host: "127.0.0.1", localAddress: from });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Whether the server closes `socket` (within the test's timeout) or keeps it. */
function closedSoon(socket: Socket, ms = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.once("error", () => undefined);
  });
}

/** One gRPC-less HTTP/2 request from `from`: its status, or the error code. */
async function request(port: number, from: string): Promise<string> {
  const session = http2.connect(`http://127.0.0.1:${port}`, {
    createConnection: () => connect({ port, host: "127.0.0.1", localAddress: from }),
  });
  try {
    return await new Promise<string>((resolve) => {
      session.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "error"));
      const req = session.request({ ":path": "/" });
      req.once("response", (h) => resolve(String(h[":status"])));
      req.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "error"));
      req.end();
    });
  } finally {
    session.destroy();
  }
}

describe("connections per peer address on the worker listener", () => {
  it("closes one beyond the cap as it is accepted, says whose, and lets another address in", async () => {
    const { port, refused } = await listener(2);
    const a = await dial(port, "127.0.0.2");
    const b = await dial(port, "127.0.0.2");
    const c = await dial(port, "127.0.0.2");
    expect(await closedSoon(c)).toBe(true);
    expect(refused).toEqual([{ address: "127.0.0.2", open: 2 }]);
    // The honest worker on another address is not counted with the flood.
    expect(await request(port, "127.0.0.1")).toBe("200");
    expect(await closedSoon(a, 50)).toBe(false);
    // A closed connection gives its place back.
    b.destroy();
    let answer = "";
    // The server sees the close when it reads it: try until then (bounded).
    for (let i = 0; i < 50 && answer !== "200"; i++) {
      await new Promise((r) => setTimeout(r, 20));
      answer = await request(port, "127.0.0.2");
    }
    expect(answer).toBe("200");
    expect(refused.length).toBeGreaterThanOrEqual(1);
  });
});
