import {
  JAVA_IDLE_RUNNABLE_FRAMES,
  JAVA_IDLE_STATES,
  STATUS_HANDLER_MARKS,
} from "./idle-frames.js";
import type { ThreadSectionParser } from "./sections.js";

/**
 * The Java SDK's `THREAD DUMP` body: one block per distinct (stack, state),
 *
 *   ---- Threads (<n>): [Thread[name,5,main], …] State: RUNNABLE Stack: ----
 *   java.base@17.0.12/sun.nio.ch.SocketDispatcher.read0(Native Method)
 *
 * innermost frame first. `Thread.toString()` is `Thread[name,prio,group]` up
 * to Java 20 and `Thread[#id,name,prio,group]` from Java 21; a thread is keyed
 * by `#id` when there is one, else by its name (what bundles name).
 */
export const parseJavaThreads: ThreadSectionParser = (lines, section, limits, cut, out) => {
  const unknown: number[] = [];
  let head: { state: string; members: { id: string; name: string }[]; count: number } | undefined;
  let frames: string[] = [];
  const seen = new Set<string>();

  const flush = () => {
    if (!head) return;
    const innermost = frames[0] ?? "";
    const idle =
      JAVA_IDLE_STATES.has(head.state) ||
      (head.state === "RUNNABLE" &&
        JAVA_IDLE_RUNNABLE_FRAMES.some((f) => frameMethod(innermost).startsWith(f)));
    const handler = frames.some((f) => f.includes(STATUS_HANDLER_MARKS.java));
    const unnamed = head.count - head.members.length;
    const members =
      unnamed > 0 ? [...head.members, { id: "", name: `${unnamed} more threads` }] : head.members;
    for (const m of members) {
      if (out.length >= limits.maxThreads) {
        cut.threads += 1;
        continue;
      }
      let threadId = m.id || m.name;
      // Names need not be unique before Java 21; the key must be.
      for (let n = 2; seen.has(threadId); n++) threadId = `${m.id || m.name} (${n})`;
      seen.add(threadId);
      out.push({ threadId, name: m.name, state: head.state, frames, idle, statusHandler: handler });
    }
    head = undefined;
    frames = [];
  };

  for (let i = section.from; i < section.to; i++) {
    const line = (lines[i] ?? "").trim();
    if (line === "") continue;
    if (line.startsWith("---- Threads (")) {
      flush();
      head = groupHeader(line, limits.maxThreads);
      if (!head) unknown.push(i);
    } else if (head) {
      if (frames.length < limits.maxFramesPerThread) frames.push(line);
      else if (frames.length === limits.maxFramesPerThread) {
        frames.push("… more frames cut");
        cut.frames += 1;
      }
    } else unknown.push(i);
  }
  flush();
  return unknown;
};

/** `java.base@17/sun.nio.ch.Net.accept(Native Method)` → `sun.nio.ch.Net.accept`. */
function frameMethod(frame: string): string {
  const paren = frame.indexOf("(");
  const head = paren < 0 ? frame : frame.slice(0, paren);
  const slash = head.lastIndexOf("/");
  return slash < 0 ? head : head.slice(slash + 1);
}

function groupHeader(
  line: string,
  max: number,
): { state: string; members: { id: string; name: string }[]; count: number } | undefined {
  const close = line.indexOf("): [");
  const stateAt = line.lastIndexOf("] State: ");
  if (close < 0 || stateAt < close || !line.endsWith(" Stack: ----")) return undefined;
  const count = Number(line.slice("---- Threads (".length, close));
  const state = line
    .slice(stateAt + "] State: ".length, line.length - " Stack: ----".length)
    .trim();
  const list = line.slice(close + "): [".length, stateAt);
  const members: { id: string; name: string }[] = [];
  for (const item of list.split(", Thread[")) {
    if (members.length >= max) break;
    let t = item.startsWith("Thread[") ? item.slice("Thread[".length) : item;
    if (t.endsWith("]")) t = t.slice(0, -1);
    members.push(threadString(t));
  }
  return {
    state,
    members,
    count: Number.isInteger(count) && count >= members.length ? count : members.length,
  };
}

/** `name,5,main` or (Java 21) `#42,name,5,main`; names may hold commas, so cut from the right. */
function threadString(t: string): { id: string; name: string } {
  let id = "";
  let rest = t;
  if (rest.startsWith("#")) {
    const comma = rest.indexOf(",");
    id = comma < 0 ? rest : rest.slice(0, comma);
    rest = comma < 0 ? "" : rest.slice(comma + 1);
  }
  const group = rest.lastIndexOf(",");
  const prio = group < 0 ? -1 : rest.lastIndexOf(",", group - 1);
  const name = prio >= 0 ? rest.slice(0, prio) : rest;
  return { id, name: name || id };
}
