import http2 from "node:http2";
import { defaultProberOptions } from "../gateway/heartbeats/heartbeat-prober.js";
import { createGateway, type Gateway } from "../gateway/gateway.js";
import type { Logger } from "../shared/logging/logger.js";
import type { HostPort } from "../shared/net/host-port.js";
import { closeServer, listen } from "../shared/net/listen.js";
import { openStore } from "../gateway/store/store.js";
import { systemClock } from "../shared/clock/clock.js";

/** A gateway built in this process on the worker-facing h2c port only. */
export interface InProcessGateway {
  gateway: Gateway;
  /** Where workers dial it. */
  address: HostPort;
  /** The HTTP/2 paths of every stream opened so far, in order. */
  streams: string[];
  /** Closes the gateway, its open connections and its store. */
  close(): Promise<void>;
}

/**
 * `createGateway` mounted on `http2.createServer(gateway.grpcHandler)` at
 * 127.0.0.1:0, with an in-memory store: lets a test reach the gateway's
 * internals (agent channels, Beam status) that the dashboard API does not
 * expose yet. Sockets and gRPC are real.
 */
export async function startInProcessGateway(
  log: Logger,
  { intervalMs = defaultProberOptions.intervalMs }: { intervalMs?: number } = {},
): Promise<InProcessGateway> {
  const day = 86_400_000;
  const store = await openStore({
    path: ":memory:",
    clock: systemClock,
    log,
    retention: { snapshotsMs: day, eventsMs: day, auditMs: day },
  });
  // Streams that end while we close still record events (agent gone, Beam
  // harness gone) and the gateway flushes them on a timer: after close they
  // must not reach the closed database.
  let closed = false;
  const gateway = createGateway({
    targets: [],
    prober: { ...defaultProberOptions, intervalMs },
    store: {
      ...store,
      appendEvents: (events) => {
        return closed ? Promise.resolve() : store.appendEvents(events);
      },
    },
    auth: { readOnly: false },
    webRoot: "dist/web",
    clock: systemClock,
    log,
  });
  const server = http2.createServer(gateway.grpcHandler);
  const sessions = new Set<http2.ServerHttp2Session>();
  const streams: string[] = [];
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  server.on("stream", (_stream, headers) => streams.push(String(headers[":path"])));
  const address = await listen(server, { host: "127.0.0.1", port: 0 }, "grpc");
  return {
    gateway,
    address,
    streams,
    async close() {
      for (const session of sessions) session.destroy();
      await closeServer(server, 2000);
      gateway.close();
      closed = true;
      await store.close();
    },
  };
}
