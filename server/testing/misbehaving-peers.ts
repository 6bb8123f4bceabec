import http from "node:http";
import net from "node:net";

/** A started server and how to reach and stop it. */
export interface Peer {
  address: string;
  close(): Promise<void>;
}

async function listenLoopback(server: net.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address() as net.AddressInfo;
  return `127.0.0.1:${addr.port}`;
}

function closer(server: net.Server, sockets: Set<net.Socket>) {
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

/** Accepts TCP connections and never says a word: only a deadline catches it. */
export async function startBlackhole(): Promise<Peer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  return { address: await listenLoopback(server), close: closer(server, sockets) };
}

/** A plain HTTP/1.1 server: answers, but not in gRPC. */
export async function startHttp1Server(): Promise<Peer> {
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.end("hello\n"));
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return { address: await listenLoopback(server), close: closer(server, sockets) };
}

/** A port that was free a moment ago: connecting to it is refused. */
export async function unusedPort(): Promise<string> {
  const server = net.createServer();
  const address = await listenLoopback(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address;
}
