import type { Clock } from "../../shared/clock/clock.js";
import http from "node:http";
import type http2 from "node:http2";
import { closeServer } from "../../shared/net/listen.js";
import { createWorkerH2Server } from "../../shared/net/worker-h2-server.js";
import { InFlight } from "./in-flight.js";

/** Stopping: how long without a new request before the listener closes. */
const QUIET_MS = 200;

/** The gateway's two listeners, unbound: --http for people, --grpc for workers. */
export interface EdgeListeners {
  http: http.Server;
  grpc: http2.Http2Server;
  /** From now on new HTTP requests get 503 (an answer, not a reset). */
  refuseNew(): void;
  /** Resolves with how many HTTP requests are still running once they are done, or after `graceMs`. */
  settled(graceMs: number): Promise<number>;
  /** Tells worker streams to go (Unavailable, then GOAWAY) and closes both listeners. */
  close(): Promise<void>;
}

export function createEdgeListeners(
  handlers: {
    http: (req: http.IncomingMessage, res: http.ServerResponse) => void;
    grpc: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;
  },
  clock: Clock,
): EdgeListeners {
  let stopping = false;
  const inFlight = new InFlight(clock);
  const httpServer = http.createServer(
    { requestTimeout: 30_000, headersTimeout: 10_000 },
    (req, res) => {
      if (stopping) {
        inFlight.seen();
        // Refused with an answer, not a reset: the client may retry elsewhere.
        res.writeHead(503, {
          "content-type": "text/plain",
          connection: "close",
          "retry-after": "1",
        });
        res.end("the gateway is shutting down\n");
        return;
      }
      inFlight.track(res);
      handlers.http(req, res);
    },
  );
  const grpcServer = createWorkerH2Server(handlers.grpc);
  // Worker streams (agents, Beam harnesses) live as long as their process;
  // on shutdown they are told to go, not waited for.
  const workerSessions = new Set<http2.ServerHttp2Session>();
  grpcServer.on("session", (session: http2.ServerHttp2Session) => {
    workerSessions.add(session);
    session.once("close", () => workerSessions.delete(session));
  });
  return {
    http: httpServer,
    grpc: grpcServer,
    refuseNew() {
      stopping = true;
    },
    settled: (graceMs) => inFlight.settled(graceMs, Math.min(QUIET_MS, graceMs)),
    async close() {
      stopping = true;
      for (const session of workerSessions) session.close();
      setTimeout(() => {
        for (const session of workerSessions) session.destroy();
      }, 500).unref();
      await Promise.all([closeHttp(httpServer), closeServer(grpcServer, 1000)]);
    },
  };
}

/** Stops listening; idle keep-alive sockets go now, busy ones after a second. */
function closeHttp(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, 1000);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
