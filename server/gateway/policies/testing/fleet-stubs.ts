import { create } from "@bufbuild/protobuf";
import { SessionState } from "../../../../gen/stallwatch/v1/agent_pb.js";
import {
  SessionViewSchema,
  ThreadDumpViewSchema,
  type SessionView,
} from "../../../../gen/stallwatch/v1/fleet_pb.js";
import type { FleetReader } from "../../fleet/fleet-reader.js";
import type { TrackedWorker, WorkerKind } from "../../fleet/tracked-worker.js";

/** A session in PROCESSING since `enteredAtMs` whose progress last moved at `progressAtMs`. */
export function processingSession(
  sessionId: string,
  enteredAtMs: number,
  progressAtMs = enteredAtMs,
  extra: { udfName?: string; taskContext?: Record<string, string>; threadId?: string } = {},
): SessionView {
  return create(SessionViewSchema, {
    workerId: "",
    session: {
      sessionId,
      state: SessionState.PROCESSING,
      stateEnteredAtMs: BigInt(enteredAtMs),
      startedAtMs: BigInt(enteredAtMs),
      udfName: extra.udfName ?? "hang",
      taskContext: extra.taskContext ?? {},
      threadId: extra.threadId ?? "",
      progress: { lastProgressAtMs: BigInt(progressAtMs) },
    },
    lastProgressAtMs: BigInt(progressAtMs),
  });
}

/** What a unit test says about a worker; the rest of TrackedWorker is never read by policies. */
export interface WorkerStub {
  id: string;
  kind?: WorkerKind;
  state?: "healthy" | "gone" | "draining";
  sessions: SessionView[];
  /** Threads of the latest dump: [threadId, unchangedSinceMs, top frame]. */
  threads?: [string, number, string][];
  dumpAtMs?: number;
}

/** A worker as policies read it (id, kind, liveness, sessions, the latest dump). */
export function stubWorker(w: WorkerStub): TrackedWorker {
  const latestDump = w.threads
    ? create(ThreadDumpViewSchema, {
        takenAtMs: BigInt(w.dumpAtMs ?? 0),
        threads: w.threads.map(([threadId, since, frame]) => ({
          thread: { threadId, name: threadId, frames: [frame] },
          unchangedSinceMs: BigInt(since),
          notMoving: true,
        })),
      })
    : undefined;
  const worker = {
    id: w.id,
    kind: w.kind ?? "agent",
    liveness: { current: { state: w.state ?? "healthy" } },
    status: {
      sessions: w.sessions,
      finished: [],
      lastStatusAtMs: 0,
      ...(latestDump ? { latestDump } : {}),
    },
  };
  // Only the fields above are read by server/gateway/policies.
  return worker as unknown as TrackedWorker;
}

/** A fleet reader over a list that the test changes in place. */
export function stubFleet(workers: TrackedWorker[]): FleetReader {
  return {
    get size() {
      return workers.length;
    },
    get: (id) => workers.find((w) => w.id === id),
    all: () => [...workers],
    subscribe: () => () => {},
  };
}
