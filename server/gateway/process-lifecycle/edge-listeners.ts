import type { Clock } from "../../shared/clock/clock.js";
import http from "node:http";
import type http2 from "node:http2";
import { Server as NetServer, type Socket } from "node:net";
import { closeServer } from "../../shared/net/listen.js";
import {
  createWorkerH2Server,
  type WorkerConnectionCap,
} from "../../shared/net/worker-h2-server.js";
import { answerShuttingDown, refuseShuttingDown } from "./shutting-down-answer.js";
import { InFlight, loopTurn, type Settled } from "./in-flight.js";

/** Stopping: how long without a new request before the listener closes. */
const QUIET_MS = 500;
/**
 * Stopping: how long refused requests and new connections that keep coming
 * may keep the listener open once nothing runs. A client still opening the
 * connections of requests it sent before the stop (1,000 of them, on a
 * loaded machine: seconds) gets its 503s, not resets; a poller cannot hold
 * the stop longer than this.
 */
const MAX_BUSY_MS = 3000;
/**
 * Stopping: how long a connection that has sent nothing yet is waited for,
 * from its accept or from the stop's start if it came before (a loaded
 * client writes its request a while after connecting).
 */
const FIRST_REQUEST_WAIT_MS = 3000;
/**
 * Closing: how long the connections accepted before the listener closed may
 * take to be answered: the first request's wait, then its refusal's wait for
 * the body (2 s) and its write.
 */
const DRAIN_AFTER_CLOSE_MS = FIRST_REQUEST_WAIT_MS + 2500;

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
  /**
   * Tells worker streams to go (Unavailable, then GOAWAY) and closes both
   * listeners: stops accepting first, then answers every connection already
   * accepted (its request, or a 503 for one that arrives now), and only then
   * closes the idle ones.
   */
  close(): Promise<void>;
}

export function createEdgeListeners(
  handlers: {
    http: (req: http.IncomingMessage, res: http.ServerResponse) => void;
    grpc: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;
  },
  clock: Clock,
  workerCap?: WorkerConnectionCap,
): EdgeListeners {
  let stopping = false;
  let refusal = SHUTTING_DOWN;
  const inFlight = new InFlight<http.ServerResponse>(clock, FIRST_REQUEST_WAIT_MS);
  const httpServer = http.createServer(
    { requestTimeout: 30_000, headersTimeout: 10_000 },
    (req, res) => {
      inFlight.requestOn(req.socket);
      if (stopping) {
        // Refused with an answer, not a reset: the client may retry elsewhere.
        inFlight.refused(res);
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
    inFlight.connected(socket);
  });
  const grpcServer = createWorkerH2Server(handlers.grpc, workerCap);
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
      inFlight.stopping();
      // Answers still to come close their connection, so no client sends
      // another request on a socket that is about to go.
      for (const res of inFlight.running()) res.shouldKeepAlive = false;
    },
    settled: (graceMs) => inFlight.settled(graceMs, Math.min(QUIET_MS, graceMs), MAX_BUSY_MS),
    async answerRunning() {
      const running = inFlight.running();
      await Promise.all(running.map((res) => answerShuttingDown(res)));
      // Then the same wait for arrivals to stop as a stop within its grace
      // gets; requests still arriving on accepted connections after that are
      // answered by close().
      await inFlight.settled(MAX_BUSY_MS, QUIET_MS, MAX_BUSY_MS);
      return running.length;
    },
    async close() {
      stopping = true;
      inFlight.stopping();
      // GOAWAY: the workers' streams were told Unavailable when stopping began.
      for (const session of workerSessions) session.close();
      setTimeout(() => {
        for (const session of workerSessions) session.destroy();
      }, 500).unref();
      await Promise.all([closeHttp(httpServer, inFlight), closeServer(grpcServer, 1000)]);
    },
  };
}

/**
 * Stops accepting, answers what was accepted, then closes the connections.
 *
 * Node's `http.Server.close()` also destroys every connection that has no
 * request in progress, and that includes one the kernel accepted whose
 * request has not been read yet: its client sees ECONNRESET for a request it
 * sent (issue 19 item 7: of 1,000 in flight only 514–1,000 were answered). So
 * the listening socket is closed with `net.Server`'s close, right after an
 * I/O turn that accepted the kernel's backlog; the accepted connections are
 * then answered (a request arriving now gets 503 + Retry-After with
 * `Connection: close`) within {@link DRAIN_AFTER_CLOSE_MS}; only then go the
 * idle kept-alive ones, and a second later whatever is left.
 */
async function closeHttp(server: http.Server, inFlight: Pick<InFlight, "drained">): Promise<void> {
  // libuv accepts the whole backlog in the poll phase; closing in the check
  // phase right after leaves only a connection completed in between to reset.
  await loopTurn();
  const closed = new Promise<void>((resolve) => {
    NetServer.prototype.close.call(server, () => resolve());
  });
  await inFlight.drained(DRAIN_AFTER_CLOSE_MS);
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    closed,
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        server.closeAllConnections();
        resolve();
      }, 1000);
    }),
  ]);
  clearTimeout(timer);
}
