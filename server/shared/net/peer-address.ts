import { createContextKey, createContextValues, type ContextValues } from "@connectrpc/connect";
import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest, Http2Stream, ServerHttp2Stream } from "node:http2";

/** The remote `host:port` of the connection a request arrived on. */
export const peerAddressKey = createContextKey<string>("unknown", { description: "peer address" });

/**
 * The HTTP/2 stream a request arrived on (undefined over HTTP/1.1): lets a
 * handler prove its peer alive with a PING, close the stream when its worker
 * id is taken over, and count streams per connection.
 */
export const peerStreamKey = createContextKey<ServerHttp2Stream | undefined>(undefined, {
  description: "HTTP/2 stream",
});

/** `contextValues` hook for connectNodeAdapter that records the peer address and stream. */
export function peerContextValues(req: IncomingMessage | Http2ServerRequest): ContextValues {
  const socket = req.socket;
  const host = socket.remoteAddress ?? "unknown";
  const peer = host.includes(":")
    ? `[${host}]:${socket.remotePort ?? 0}`
    : `${host}:${socket.remotePort ?? 0}`;
  const values = createContextValues().set(peerAddressKey, peer);
  if ("stream" in req) values.set(peerStreamKey, req.stream);
  return values;
}

/** The host part of a `peerAddressKey` value (`[::1]:5` → `::1`, `1.2.3.4:5` → `1.2.3.4`). */
export function peerHost(peer: string): string {
  const bracketed = /^\[(.*)\]:\d+$/.exec(peer);
  if (bracketed) return bracketed[1] ?? "";
  const colon = peer.lastIndexOf(":");
  const host = colon < 0 ? peer : peer.slice(0, colon);
  // IPv4-mapped IPv6 (a dual-stack listener) is the IPv4 peer.
  return host.startsWith("::ffff:") && host.includes(".") ? host.slice(7) : host;
}

/**
 * True when `stream` is open and its connection answers an HTTP/2 PING
 * within `timeoutMs`. Never rejects.
 */
export function proveStreamAlive(
  stream: Http2Stream | undefined,
  timeoutMs: number,
): Promise<boolean> {
  if (!stream || stream.closed || stream.destroyed) return Promise.resolve(false);
  const session = stream.session;
  if (!session || session.closed || session.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    timer.unref();
    try {
      const sent = session.ping((err) => {
        clearTimeout(timer);
        resolve(!err && !stream.closed);
      });
      if (!sent) {
        clearTimeout(timer);
        resolve(false);
      }
    } catch {
      clearTimeout(timer);
      resolve(false);
    }
  });
}
