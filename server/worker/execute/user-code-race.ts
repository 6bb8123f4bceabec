import type { CancelRequest, SessionLifecycle } from "../sessions/session-lifecycle.js";
import { UdfFailure } from "../udf/udf-thread-handle.js";
import { kindOf, type Inbox } from "./inbox.js";

/** What ended a wait on user code. */
export type Race<T> =
  | { kind: "done"; value: T }
  | { kind: "failed"; failure: UdfFailure }
  | { kind: "engineCancel" }
  | { kind: "external"; cancel: CancelRequest }
  | { kind: "broken"; error: Error }
  | { kind: "violation"; message: string };

/** A wait on user code that ended because of something else than user code. */
export type Interruption = Exclude<Race<unknown>, { kind: "done" } | { kind: "failed" }>;

export interface RaceSources {
  inbox: Inbox;
  lifecycle: SessionLifecycle;
  /** Resolves when the transport breaks. */
  broken: Promise<Error>;
}

/**
 * Waits for user code while watching for a Cancel from the engine (read one
 * ahead), an outside cancel, or a broken stream. A DataRequest or Finish
 * read ahead stays in the inbox for after user code is done; an engine
 * Cancel is consumed.
 */
export async function raceUserCode<T>(work: Promise<T>, src: RaceSources): Promise<Race<T>> {
  const settled = work.then(
    (value): Race<T> => ({ kind: "done", value }),
    (err: unknown): Race<T> =>
      err instanceof UdfFailure
        ? { kind: "failed", failure: err }
        : { kind: "failed", failure: new UdfFailure("user", String(err)) },
  );
  const external = src.lifecycle.asked().then((cancel): Race<T> => ({ kind: "external", cancel }));
  const ahead = src.inbox.peek().then((next): Race<T> | "later" => {
    if (next.kind === "broken") return { kind: "broken", error: next.error };
    if (next.kind === "end") return "later";
    const kind = kindOf(next.message);
    if (kind === "cancel") return { kind: "engineCancel" };
    if (kind === "init") return { kind: "violation", message: "a second Init" };
    if (kind === "payload")
      return { kind: "violation", message: "PayloadChunk after InitResponse" };
    if (kind === "empty") return { kind: "violation", message: "a message with no branch set" };
    return "later";
  });
  const broken = src.broken.then((error): Race<T> => ({ kind: "broken", error }));
  const first = await Promise.race([settled, external, ahead, broken]);
  if (first === "later") return Promise.race([settled, external, broken]);
  if (first.kind === "engineCancel") await src.inbox.take();
  return first;
}
