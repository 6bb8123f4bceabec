import { readFileSync, readdirSync } from "node:fs";

/**
 * Processes as Linux's /proc names them, for tests that must prove no
 * process is left behind: a pid alone is not enough (pids wrap at 32,768 here
 * and a busy test run reuses them within seconds), so a process is its pid
 * and its start time.
 */
export interface Proc {
  pid: number;
  startedAt: string;
}

/** Fields of /proc/PID/stat from field 3 (state) on; undefined once the process is gone. */
export function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // After "pid (comm) ": comm may hold spaces.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

export function identify(pid: number): Proc {
  return { pid, startedAt: statFields(pid)?.[19] ?? "" };
}

/** Still running: the same process, and not a zombie waiting for its reaper. */
export function alive(proc: Proc): boolean {
  const fields = statFields(proc.pid);
  return fields !== undefined && fields[19] === proc.startedAt && fields[0] !== "Z";
}

/** Pids of the direct children of `pid` (every thread's children file). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    } catch {
      // The thread ended while we looked.
    }
  }
  return out;
}

/** Every descendant of `pid`, children before grandchildren. */
export function descendants(pid: number): Proc[] {
  const out: Proc[] = [];
  const queue = childPids(pid);
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    out.push(identify(next));
    queue.push(...childPids(next));
  }
  return out;
}

/** "pid (state, ppid) command line" for each process still alive: what a failing test prints. */
export function describeAlive(procs: readonly Proc[]): string[] {
  return procs.filter(alive).map((p) => {
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${p.pid}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      cmd = "(gone while we looked)";
    }
    const f = statFields(p.pid);
    return `${p.pid} (${f?.[0] ?? "?"}, ppid ${f?.[1] ?? "?"}) ${cmd.slice(0, 160)}`;
  });
}
