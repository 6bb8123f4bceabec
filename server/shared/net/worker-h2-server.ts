import http2 from "node:http2";
import { capConnectionsPerAddress, type RefusedConnection } from "./connections-per-address.js";

/**
 * HTTP/2 limits for the worker-facing listener. Node's defaults advertise
 * 4294967295 concurrent streams and let one connection hold unbounded
 * header lists; a real worker needs one or two long-lived streams (agent,
 * Beam status) plus the occasional unary call.
 */
export const WORKER_H2_LIMITS = {
  /** Streams one connection may have open at once (advertised in SETTINGS). */
  maxConcurrentStreams: 16,
  /** Bytes of headers per request; gRPC metadata of a worker is tiny. */
  maxHeaderListSize: 16 << 10,
  /** MiB of buffered state per connection before nghttp2 refuses more (Node's default is 10). */
  maxSessionMemory: 16,
  /** Streams a peer may open and have refused before the connection is closed. */
  maxSessionRejectedStreams: 100,
  /** Malformed frames tolerated per connection. */
  maxSessionInvalidFrames: 100,
  /** Connections at once on the listener; more are closed on accept. */
  maxConnections: 12_000,
} as const;

/** Per-peer limits of the worker-facing listener (settings of the gateway). */
export interface WorkerConnectionCap {
  /** Connections one peer address may hold at once; more are closed on accept. */
  maxConnectionsPerAddress: number;
  /** Told about each connection closed for its address (a log line, a counter). */
  onRefused: (refused: RefusedConnection) => void;
}

/** `http2.createServer` with {@link WORKER_H2_LIMITS} and the per-address cap applied. */
export function createWorkerH2Server(
  handler: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  cap?: WorkerConnectionCap,
): http2.Http2Server {
  const l = WORKER_H2_LIMITS;
  const server = http2.createServer(
    {
      settings: {
        maxConcurrentStreams: l.maxConcurrentStreams,
        maxHeaderListSize: l.maxHeaderListSize,
      },
      maxSessionMemory: l.maxSessionMemory,
      maxSessionRejectedStreams: l.maxSessionRejectedStreams,
      maxSessionInvalidFrames: l.maxSessionInvalidFrames,
    },
    handler,
  );
  server.maxConnections = l.maxConnections;
  if (cap) capConnectionsPerAddress(server, cap.maxConnectionsPerAddress, cap.onRefused);
  return server;
}
