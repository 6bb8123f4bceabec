/**
 * The database cannot be used any more (read-only, I/O error, corrupt, disk
 * full). The gateway logs it and exits non-zero quickly so a supervisor
 * restarts it: a gateway that cannot record audit must not keep accepting
 * actions as if it could.
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

const FATAL_CODES = /^SQLITE_(READONLY|IOERR|CORRUPT|FULL|CANTOPEN|NOTADB|PERM|AUTH)/;

/** Wraps fatal SQLite errors as StoreFatalError; returns others unchanged. */
export function classifyStoreError(err: unknown, what: string): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && FATAL_CODES.test(code)) {
    return new StoreFatalError(`${what}: ${(err as Error).message} (${code})`, code, {
      cause: err,
    });
  }
  return err;
}
