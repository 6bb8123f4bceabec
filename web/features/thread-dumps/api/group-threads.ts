import type { ThreadDumpView, ThreadView } from "../../../../gen/stallwatch/v1/fleet_pb";

export interface ThreadGroup {
  key: string;
  frames: string[];
  threads: ThreadView[];
  notMoving: number;
  /** Threads in this group whose stack differs from the previous dump (or that are new). */
  changed: number;
}

export interface GroupedDump {
  groups: ThreadGroup[];
  /** Thread ids in the previous dump that are gone now. */
  gone: string[];
  total: number;
}

/**
 * Groups threads by identical stack (with counts), marks what changed since
 * the previous dump, and filters by thread name or frame text. Groups with
 * threads that are not moving come first, then the biggest. Linear in the
 * number of threads, so 2,000 threads group in a few milliseconds.
 */
export function groupThreads(
  current: ThreadDumpView,
  previous: ThreadDumpView | undefined,
  filter: string,
): GroupedDump {
  const needle = filter.trim().toLowerCase();
  const before = new Map<string, string>();
  for (const t of previous?.threads ?? [])
    before.set(t.thread?.threadId ?? "", (t.thread?.frames ?? []).join("\n"));
  const groups = new Map<string, ThreadGroup>();
  let total = 0;
  const present = new Set<string>();
  for (const view of current.threads) {
    const thread = view.thread;
    if (!thread) continue;
    present.add(thread.threadId);
    const key = thread.frames.join("\n");
    if (
      needle &&
      !thread.name.toLowerCase().includes(needle) &&
      !key.toLowerCase().includes(needle)
    )
      continue;
    total += 1;
    let group = groups.get(key);
    if (!group) {
      group = { key, frames: thread.frames, threads: [], notMoving: 0, changed: 0 };
      groups.set(key, group);
    }
    group.threads.push(view);
    if (view.notMoving) group.notMoving += 1;
    if (previous && before.get(thread.threadId) !== key) group.changed += 1;
  }
  const gone = previous ? [...before.keys()].filter((id) => !present.has(id)) : [];
  const sorted = [...groups.values()].sort(
    (a, b) => b.notMoving - a.notMoving || b.threads.length - a.threads.length,
  );
  return { groups: sorted, gone, total };
}

/** The dump as plain text, for copy and download. */
export function dumpAsText(dump: ThreadDumpView): string {
  const header = `Thread dump of ${dump.workerId} at ${new Date(Number(dump.takenAtMs)).toISOString()} (${dump.source}, took ${String(dump.costMicros)} µs)`;
  const body = dump.threads.map((t) => {
    const th = t.thread;
    const flag = t.notMoving
      ? ` [not moving since ${new Date(Number(t.unchangedSinceMs)).toISOString()}]`
      : "";
    return `"${th?.name ?? ""}" id=${th?.threadId ?? ""} state=${th?.state ?? ""}${th?.sessionId ? ` session=${th.sessionId}` : ""}${flag}\n${(th?.frames ?? []).map((f) => `    at ${f}`).join("\n")}`;
  });
  return [header, "", ...body].join("\n\n");
}
