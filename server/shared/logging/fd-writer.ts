import { write, writeSync } from "node:fs";

/**
 * Errors worth another try: a non-blocking pipe that is full. Anything else
 * (EPIPE: the reader is gone; EBADF, EIO, ENOSPC) ends writing for good.
 */
const RETRYABLE = new Set(["EAGAIN", "EINTR", "EBUSY"]);

export interface FdWriterOptions {
  /** Bytes held while the reader is slow; lines beyond are dropped (counted). Default 4 MiB. */
  maxQueuedBytes?: number;
  /** How long the last lines may take to leave at exit (a slow reader). Default 1 s. */
  exitFlushMs?: number;
  /** Calls `flush` when the process exits (default: yes). */
  flushOnExit?: boolean;
}

/**
 * Writes log text to a file descriptor (stdout) in order, without blocking
 * the event loop, and never lets a closed or stuck reader hold the process.
 *
 * Why not pino's own destination: sonic-boom's flushSync, which pino runs in
 * `process.on("exit")`, retries a failed write forever, sleeping 100 ms
 * between tries, unless the error is EAGAIN; with EPIPE (the demo, our
 * parent, gone) a process that logged a line and exited in the same tick
 * spun there at 2–5% CPU with no JS running, so SIGTERM did nothing (issue
 * 19, item 1; server/shared/cli/stop-when-orphaned.integration.test.ts).
 * Here a final error drops what is queued and every later line, and the exit
 * flush gives up after `exitFlushMs`.
 */
export class FdWriter {
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private writing = false;
  private closed = false;
  /** Lines dropped because the reader was gone or too slow. */
  dropped = 0;
  private readonly maxQueuedBytes: number;
  private readonly exitFlushMs: number;

  constructor(
    private readonly fd: number,
    { maxQueuedBytes = 4 << 20, exitFlushMs = 1000, flushOnExit = true }: FdWriterOptions = {},
  ) {
    this.maxQueuedBytes = maxQueuedBytes;
    this.exitFlushMs = exitFlushMs;
    if (flushOnExit) process.once("exit", () => this.flush());
  }

  /** Whether the reader is gone (nothing more will be written). */
  get broken(): boolean {
    return this.closed;
  }

  write(text: string): void {
    if (this.closed) {
      this.dropped++;
      return;
    }
    const bytes = Buffer.from(text);
    if (this.queuedBytes + bytes.length > this.maxQueuedBytes) {
      this.dropped++;
      return;
    }
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    if (!this.writing) this.writeNext();
  }

  /**
   * Writes what is queued synchronously, giving up after `exitFlushMs` of
   * EAGAIN (a reader that stopped reading) or at the first final error. A
   * write still in flight on the thread pool is left to finish on its own.
   */
  flush(): void {
    const deadline = Date.now() + this.exitFlushMs;
    let chunk = this.take();
    while (chunk && !this.closed) {
      try {
        const n = writeSync(this.fd, chunk);
        chunk = n < chunk.length ? chunk.subarray(n) : this.take();
      } catch (err) {
        if (!this.retryable(err) || Date.now() >= deadline) {
          this.close();
          return;
        }
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      }
    }
  }

  private writeNext(): void {
    const chunk = this.take();
    if (!chunk) return;
    this.writing = true;
    const attempt = (buf: Buffer): void => {
      write(this.fd, buf, 0, buf.length, null, (err, n) => {
        if (err) {
          if (this.retryable(err) && !this.closed) setTimeout(() => attempt(buf), 20).unref();
          else this.close();
          return;
        }
        if (n < buf.length) {
          attempt(buf.subarray(n));
          return;
        }
        this.writing = false;
        this.writeNext();
      });
    };
    attempt(chunk);
  }

  /** Everything queued, as one buffer (one write call), or undefined. */
  private take(): Buffer | undefined {
    if (this.queue.length === 0) return undefined;
    const chunk = Buffer.concat(this.queue);
    this.queue = [];
    this.queuedBytes = 0;
    return chunk;
  }

  private retryable(err: unknown): boolean {
    return RETRYABLE.has((err as NodeJS.ErrnoException).code ?? "");
  }

  private close(): void {
    this.closed = true;
    this.writing = false;
    this.dropped += this.queue.length;
    this.queue = [];
    this.queuedBytes = 0;
  }
}
