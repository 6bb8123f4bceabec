import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { ThreadSchema, type Thread, type ThreadDump } from "../../../gen/stallwatch/v1/agent_pb.js";
import { ThreadDumpViewSchema, type ThreadDumpView } from "../../../gen/stallwatch/v1/fleet_pb.js";
import type { ThreadMotionTracker } from "./thread-motion.js";

/** Frames kept per thread; deeper stacks are cut (the cut is marked). */
const MAX_FRAMES = 200;
/** Characters kept per frame or name: worker text is untrusted. */
const MAX_TEXT = 1000;

function clip(text: string): string {
  return text.length > MAX_TEXT
    ? `${text.slice(0, MAX_TEXT)}… [${text.length - MAX_TEXT} more chars]`
    : text;
}

/** Each thread with how long its stack has been still (the tracker learns from this dump). */
function withMotion(threads: Thread[], motion: ThreadMotionTracker, takenAtMs: number) {
  const moves = motion.observe(threads, takenAtMs);
  return threads.map((thread) => {
    const m = moves.get(thread.threadId);
    return {
      thread,
      unchangedSinceMs: BigInt(m?.unchangedSinceMs ?? takenAtMs),
      notMoving: m?.notMoving ?? false,
    };
  });
}

/**
 * An agent's dump as the dashboard sees it: bounded, with motion. Its text
 * was already capped and redacted once, at the agent endpoint (agent-ingest.ts).
 */
export function agentDumpView(
  workerId: string,
  dump: ThreadDump,
  trigger: string,
  motion: ThreadMotionTracker,
  nowMs: number,
): ThreadDumpView {
  let truncated = false;
  const threads = dump.threads.map((t) => {
    const frames = t.frames.slice(0, MAX_FRAMES).map(clip);
    if (t.frames.length > MAX_FRAMES) {
      truncated = true;
      frames.push(`… ${t.frames.length - MAX_FRAMES} more frames`);
    }
    return create(ThreadSchema, { ...t, name: clip(t.name), state: clip(t.state), frames });
  });
  const takenAtMs = Number(dump.takenAtMs) || nowMs;
  return create(ThreadDumpViewSchema, {
    id: randomUUID(),
    workerId,
    takenAtMs: BigInt(takenAtMs),
    costMicros: dump.costMicros,
    source: "agent",
    trigger,
    truncated,
    threads: withMotion(threads, motion, takenAtMs),
  });
}

/** Most characters of a thread name put on a session (the dump keeps the whole, capped, name). */
const MAX_SESSION_THREAD_NAME = 200;

/**
 * Looks up the name a session's thread has in `dump`, where it says more
 * than its id (a Python thread's id is its ident): "" when the dump has no
 * such thread or the name is the id. The dump is indexed once, not scanned
 * per session.
 */
export function threadNamesIn(dump: ThreadDumpView | undefined): (threadId: string) => string {
  const names = new Map<string, string>();
  for (const view of dump?.threads ?? []) {
    const t = view.thread;
    if (t?.threadId && t.name && t.name !== t.threadId)
      names.set(t.threadId, t.name.slice(0, MAX_SESSION_THREAD_NAME));
  }
  return (threadId) => names.get(threadId) ?? "";
}
