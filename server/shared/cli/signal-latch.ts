export type StopSignal = "SIGINT" | "SIGTERM";

/**
 * Catches SIGINT and SIGTERM from the moment it exists and hands them on
 * once someone listens. The CLI makes one before a command starts, so a
 * signal that lands while it is still starting (a supervisor stopping a slow
 * start) is acted on once the command is up, instead of Node's default
 * killing it half-started with no log line.
 */
export class SignalLatch {
  private readonly early: StopSignal[] = [];
  private listener: ((signal: StopSignal) => void) | undefined;
  private readonly handlers = new Map<StopSignal, () => void>();

  constructor(private readonly target: NodeJS.EventEmitter = process) {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const handler = () => {
        if (this.listener) this.listener(signal);
        else this.early.push(signal);
      };
      this.handlers.set(signal, handler);
      target.on(signal, handler);
    }
  }

  /** Calls `listener` for every signal from now on, after the ones that came early. */
  listen(listener: (signal: StopSignal) => void): void {
    this.listener = listener;
    for (const signal of this.early.splice(0)) listener(signal);
  }

  /** Stops catching: the default behaviour comes back. */
  close(): void {
    for (const [signal, handler] of this.handlers) this.target.off(signal, handler);
    this.handlers.clear();
  }
}
