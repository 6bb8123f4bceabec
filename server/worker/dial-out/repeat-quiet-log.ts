import type { Logger } from "../../shared/logging/logger.js";

/**
 * Logs a recurring problem at warn when it first appears or changes, and at
 * debug while it repeats: a dump that keeps timing out is answered every
 * second in Beam mode and must not flood the worker's log. An empty problem
 * (all well again) re-arms it.
 */
export class RepeatQuietLog {
  private last = "";

  constructor(
    private readonly log: Logger,
    private readonly msg: string,
  ) {}

  note(problem: string, context: Record<string, unknown> = {}): void {
    if (problem === "") {
      this.last = "";
      return;
    }
    const level = problem === this.last ? "debug" : "warn";
    this.last = problem;
    this.log[level]({ ...context, error: problem }, this.msg);
  }
}
