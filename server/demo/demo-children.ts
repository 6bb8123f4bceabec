import type { Logger } from "../shared/logging/logger.js";
import { startChild, startProgram, stopChild, type DemoChild } from "./child-process.js";

/**
 * Every process the demo started, and its timers: what Ctrl-C stops. Once
 * stopping, nothing new starts and no timer fires.
 */
export class DemoChildren {
  private readonly children = new Set<DemoChild>();
  private readonly timers: NodeJS.Timeout[] = [];
  private stopped = false;

  constructor(private readonly log: Logger) {}

  get stopping(): boolean {
    return this.stopped;
  }

  /** Starts `stallwatch <args>` as a child named `name`; it leaves the set when it exits. */
  spawn(name: string, args: string[], env?: Record<string, string>): DemoChild {
    return this.keep(startChild(name, args, this.log, undefined, env));
  }

  /** Starts another program (`command <args>`) as a child, with the same lifeline and log relay. */
  spawnProgram(
    name: string,
    command: string,
    args: string[],
    env: Record<string, string> = {},
  ): DemoChild {
    return this.keep(startProgram(name, command, args, this.log, undefined, env));
  }

  private keep(child: DemoChild): DemoChild {
    this.children.add(child);
    void child.exited.then(() => this.children.delete(child));
    return child;
  }

  /** The live child called `name`, if any. */
  find(name: string): DemoChild | undefined {
    return [...this.children].find((c) => c.name === name);
  }

  /** Runs `fn` after `ms` unless the demo stops first. */
  later(ms: number, fn: () => void): void {
    this.timers.push(
      setTimeout(() => {
        if (!this.stopped) fn();
      }, ms),
    );
  }

  /** Stops every child: engines first, so workers are not stopped under live sessions needlessly. */
  async stopAll(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    const engines = [...this.children].filter((c) => c.name.startsWith("engine"));
    await Promise.all(engines.map((c) => stopChild(c)));
    await Promise.all([...this.children].map((c) => stopChild(c)));
  }
}
