import type { Server, Socket } from "node:net";

/** A connection refused for its address: who, and how many it already had. */
export interface RefusedConnection {
  /** The peer's address (IPv4-mapped IPv6 written as IPv4). */
  address: string;
  /** Connections that address already holds. */
  open: number;
}

/**
 * Caps the connections one peer address may hold on `server`: one beyond
 * `max` is closed as it is accepted, before any protocol state (an HTTP/2
 * session, its streams) is built for it, and reported to `onRefused`.
 * 500 connections from one host cost the gateway hundreds of MB and seconds
 * of event loop even when every stream on them was refused; honest workers
 * on other addresses keep connecting. Install it before anything else
 * listens for "connection": listeners added later see refused sockets too.
 */
export function capConnectionsPerAddress(
  server: Server,
  max: number,
  onRefused: (refused: RefusedConnection) => void,
): { open(address: string): number } {
  const perAddress = new Map<string, number>();
  // The server's own connection listeners (an HTTP/2 session per socket) run
  // only for connections let in: a refused one costs an accept and a close.
  const inner = server.listeners("connection") as ((socket: Socket) => void)[];
  server.removeAllListeners("connection");
  server.on("connection", (socket: Socket) => {
    const address = normalizeAddress(socket.remoteAddress ?? "unknown");
    const open = perAddress.get(address) ?? 0;
    if (open >= max) {
      socket.destroy();
      onRefused({ address, open });
      return;
    }
    for (const listener of inner) listener.call(server, socket);
    perAddress.set(address, open + 1);
    socket.once("close", () => {
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
  });
  return { open: (address) => perAddress.get(normalizeAddress(address)) ?? 0 };
}

/** `::ffff:10.0.0.1` (a dual-stack listener's IPv4 peer) is `10.0.0.1`. */
function normalizeAddress(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}
