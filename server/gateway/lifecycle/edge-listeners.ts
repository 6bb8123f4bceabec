import type { Clock } from "../../shared/clock/clock.js";
import http from "node:http";
import type http2 from "node:http2";
import type { Socket } from "node:net";
import { closeServer } from "../../shared/net/listen.js";
import { createWorkerH2Server } from "../../shared/net/worker-h2-server.js";
import { answerShuttingDown, refuseShuttingDown } from "./shutting-down-answer.js";
import { InFlight, type Settled } from "./in-flight.js";

/** Stopping: how long without a new request before the listener closes. */
const QUIET_MS = 200;
/** Stopping: how long a new connection may take to send its first request. */
const FIRST_REQUEST_WAIT_MS = 3000;

const SHUTTING_DOWN = "the gateway is shutting down";

/** The gateway's two listeners, unbound: --http for people, --grpc for workers. */
export interface EdgeListeners {
  http: http.Server;
  grpc: http2.Http2Server;
  /**
   * From now on new HTTP requests get 503 (an answer, not a reset) saying
   * `why` (default: the gateway is shutting down); /readyz included, so a
   * store failure is named there, not hidden behind "shutting down".
   */
  refuseNew(why?: string): void;
  /** Resolves once HTTP requests in flight are done (or the grace is over) and says how it ended. */
  settled(graceMs: number): Promise<Settled>;
  /**
   * Answers every HTTP request still running with 503 + Retry-After, then
   * the ones still arriving on accepted connections; resolves with how many were running.
   */
  answerRunning(): Promise<number>;
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
  let refusal = SHUTTING_DOWN;
  const inFlight = new InFlight<http.ServerResponse>(clock);
  const httpServer = http.createServer(
    { requestTimeout: 30_000, headersTimeout: 10_000 },
    (req, res) => {
      inFlight.requestOn(req.socket);
      if (stopping) {
        // Refused with an answer, not a reset: the client may retry elsewhere.
        inFlight.track(res);
        refuseShuttingDown(req, res, refusal);
        return;
      }
      inFlight.track(res);
      handlers.http(req, res);
    },
  );
  // A new connection is about to carry a request (a loaded client may take a
  // while to write it): its answer is part of the wait, not something to reset.
  httpServer.on("connection", (socket: Socket) => {
    inFlight.connected(socket, FIRST_REQUEST_WAIT_MS);
  });
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
    refuseNew(why = SHUTTING_DOWN) {
      if (!stopping) refusal = why;
      stopping = true;
      // Answers still to come close their connection, so no client sends
      // another request on a socket that is about to go.
      for (const res of inFlight.running()) res.shouldKeepAlive = false;
    },
    settled: (graceMs) => inFlight.settled(graceMs, Math.min(QUIET_MS, graceMs)),
    async answerRunning() {
      const running = inFlight.running();
      await Promise.all(running.map((res) => answerShuttingDown(res)));
      // Requests the kernel holds that a busy loop has not read yet are
      // refused with 503 as they are read, not reset by the close.
      await inFlight.settled(FIRST_REQUEST_WAIT_MS, QUIET_MS);
      return running.length;
    },
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
