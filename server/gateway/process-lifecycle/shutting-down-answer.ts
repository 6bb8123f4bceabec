import type { IncomingMessage, ServerResponse } from "node:http";

/** How long a refused request's body may take to arrive before the answer goes anyway. */
const BODY_WAIT_MS = 2000;

/** Seconds a client is told to wait before it retries (here or elsewhere). */
const RETRY_AFTER_S = "1";

/**
 * The body of every shutdown 503: a Connect error, so the dashboard's client
 * reads `Unavailable` with this message; anything else reads the status.
 */
const body = (why: string) =>
  JSON.stringify({
    code: "unavailable",
    message: `${why}; retry (here once it is back, or on another gateway)`,
  });

const SHUTTING_DOWN = "the gateway is shutting down";

/**
 * A request that arrived while stopping: 503 naming `why` (a store failure
 * names the disk, not "shutting down"), and the connection closes. The
 * answer waits for the request's body (read and dropped): closing a socket
 * with unread data sends a reset, and the client sees ECONNRESET instead of
 * the 503 (a loaded client writes headers and body apart).
 */
export function refuseShuttingDown(
  req: IncomingMessage,
  res: ServerResponse,
  why = SHUTTING_DOWN,
): void {
  if (req.complete) {
    write503(res, why);
    return;
  }
  let sent = false;
  const answer = () => {
    if (sent) return;
    sent = true;
    clearTimeout(timer);
    write503(res, why);
  };
  const timer = setTimeout(answer, BODY_WAIT_MS);
  req.once("end", answer);
  req.once("error", answer);
  req.resume();
}

function write503(res: ServerResponse, why = SHUTTING_DOWN): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(503, {
    "content-type": "application/json",
    connection: "close",
    "retry-after": RETRY_AFTER_S,
  });
  res.end(body(why));
}

/**
 * A request still running when the grace is over gets its answer now: a 503
 * with Retry-After if nothing was sent yet, else the end of what was sent (a
 * stream was already told `Unavailable` when stopping began). The handler's
 * late answer, if it ever comes, goes nowhere instead of failing on a
 * finished response. Resolves once the answer is flushed (or the socket gone).
 */
export function answerShuttingDown(res: ServerResponse): Promise<void> {
  if (res.writableEnded) return Promise.resolve();
  const done = new Promise<void>((resolve) => res.once("close", resolve));
  res.shouldKeepAlive = false;
  if (!res.headersSent) write503(res);
  else res.end();
  silence(res);
  return done;
}

/** Turns the response's writers into no-ops: its answer has been given. */
function silence(res: ServerResponse): void {
  const noop = () => res;
  // The handler may still hold `res`; what it writes now is dropped.
  Object.assign(res, {
    writeHead: noop,
    setHeader: noop,
    addTrailers: noop,
    flushHeaders: noop,
    write: () => true,
    end: noop,
  });
}
