import { createContextKey, createContextValues, type ContextValues } from "@connectrpc/connect";
import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";

/** The remote `host:port` of the connection a request arrived on. */
export const peerAddressKey = createContextKey<string>("unknown", { description: "peer address" });

/** `contextValues` hook for connectNodeAdapter that records the peer address. */
export function peerContextValues(req: IncomingMessage | Http2ServerRequest): ContextValues {
  const socket = req.socket;
  const host = socket.remoteAddress ?? "unknown";
  const peer = host.includes(":")
    ? `[${host}]:${socket.remotePort ?? 0}`
    : `${host}:${socket.remotePort ?? 0}`;
  return createContextValues().set(peerAddressKey, peer);
}
