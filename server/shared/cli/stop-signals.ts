/**
 * How long after the first stop signal another one still counts as the same
 * request. A terminal's Ctrl-C reaches the whole foreground process group,
 * and a parent that forwards it (`npm`, scripts/start.js) delivers it again
 * a few milliseconds later: one keypress, two signals (issue 19, item 1: the
 * demo took them for two and exited at once, under its children's feet).
 * A person pressing Ctrl-C again because the stop is slow does so later.
 */
export const SAME_REQUEST_MS = 1000;

/** What a stop signal asks for: start stopping, nothing new, or exit now. */
export type StopVerdict = "stop" | "same-request" | "exit-now";

/**
 * Judges each SIGINT/SIGTERM a process gets: the first starts a clean stop,
 * another within {@link SAME_REQUEST_MS} is the same request arriving twice,
 * and one after that means "exit now".
 */
export class StopSignals {
  private firstAt: number | undefined;

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly windowMs = SAME_REQUEST_MS,
  ) {}

  judge(): StopVerdict {
    const at = this.now();
    if (this.firstAt === undefined) {
      this.firstAt = at;
      return "stop";
    }
    return at - this.firstAt < this.windowMs ? "same-request" : "exit-now";
  }
}
