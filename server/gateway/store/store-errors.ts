/**
 * The database cannot be used any more (read-only, I/O error, corrupt, disk
 * full, PostgreSQL gone). The gateway logs it and exits non-zero quickly so a
 * supervisor restarts it: a gateway that cannot record audit must not keep
 * accepting actions as if it could.
 */
export class StoreFatalError extends Error {
  override name = "StoreFatalError";
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * What a caller is told when the store has failed: the cause by its code
 * (SQLITE_FULL names a full disk), never a path or an internal message.
 * The same words for a request that hit the fault and for every request
 * refused while the gateway stops because of it, /readyz included.
 */
export function storeFailureForCallers(err: StoreFatalError): string {
  return `the gateway cannot write to its database (${err.code}) and is restarting; nothing from this request was recorded, try again shortly`;
}

const FATAL_SQLITE = /^SQLITE_(READONLY|IOERR|CORRUPT|FULL|CANTOPEN|NOTADB|PERM|AUTH)/;
/**
 * PostgreSQL SQLSTATEs that no retry fixes: connection exceptions (08),
 * insufficient resources such as a full disk (53), system errors (58),
 * internal errors and corruption (XX), the server shutting down (57P01-03),
 * a read-only server (25006), and bad credentials (28). Socket errors from
 * the driver count as a lost connection.
 */
const FATAL_PG = /^(08|53|58|XX|28|57P0[1-3]$|25006$)|^(ECONNREFUSED|ECONNRESET|EPIPE|ENOTFOUND)$/;
const LOST_PG =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/;

/** Wraps fatal SQLite and PostgreSQL errors as StoreFatalError; returns others unchanged. */
export function classifyStoreError(err: unknown, what: string): unknown {
  if (err instanceof StoreFatalError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code === "string" && (FATAL_SQLITE.test(code) || FATAL_PG.test(code))) {
    return new StoreFatalError(`${what}: ${message} (${code})`, code, { cause: err });
  }
  if (typeof code !== "string" && LOST_PG.test(message)) {
    return new StoreFatalError(`${what}: ${message}`, "PG_CONNECTION", { cause: err });
  }
  return err;
}
