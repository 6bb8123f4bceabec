import { Code, ConnectError } from "@connectrpc/connect";
import type { WatchProfileResponse } from "../../../../gen/stallwatch/v1/profile_pb";
import type { WorkerTransportSettings } from "../../../shared/worker-transport";

/**
 * WatchProfile followed inside a Web Worker (`profile-stream.worker.ts`), so
 * that the protobuf decode of a finished profile (~0.9 MB, ~10,000 frame and
 * stack messages for 5,000 distinct frames: a 59-99 ms task on the main
 * thread in bench/profile-view.bench.ts) happens off the main thread. The
 * worker posts each decoded `WatchProfileResponse` as it is: protobuf-es v2
 * messages are plain objects (`$typeName` a string, uint64/int64 as bigint),
 * which structured clone copies whole; the main thread only pays the copy.
 *
 * One worker per stream: `streamFromWorker` starts it, and ends it
 * (`terminate`, which also ends its fetch) when the stream ends, fails, is
 * aborted or is no longer read. The protocol, both sides:
 */

/** Main thread → worker, once, right after the worker starts. */
export interface WatchCommand {
  type: "watch";
  profileId: string;
  settings: WorkerTransportSettings;
}

/** Worker → main thread. */
export type WorkerEvent =
  | { type: "message"; message: WatchProfileResponse }
  /** The server ended the stream. */
  | { type: "end" }
  /** The stream failed: a ConnectError's code and message (its metadata is not cloneable). */
  | { type: "error"; code: Code; message: string };

/** The part of a `Worker` used here (tests pass a fake). */
export interface WorkerLike {
  postMessage(command: WatchCommand): void;
  terminate(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: { preventDefault?: () => void; message?: string }) => void) | null;
  onmessageerror: ((event: unknown) => void) | null;
}

/** The part of a worker's global scope used here. */
export interface WorkerScopeLike {
  postMessage(event: WorkerEvent): void;
  onmessage: ((event: { data: unknown }) => void) | null;
}

/** A failure as it crosses to the main thread. */
export function errorEvent(err: unknown): WorkerEvent & { type: "error" } {
  const error = ConnectError.from(err);
  return { type: "error", code: error.code, message: error.rawMessage };
}

/** The failure again, as the main-thread client would have thrown it. */
export function errorFromEvent(event: { code: Code; message: string }): ConnectError {
  return new ConnectError(event.message, event.code);
}

const TYPE_NAME = "stallwatch.v1.WatchProfileResponse";
const CODES = new Map(
  Object.values(Code)
    .filter((c): c is Code => typeof c === "number")
    .map((c) => [c as number, c]),
);

/** A worker's message as an event; anything else becomes an Internal error. */
export function readEvent(data: unknown): WorkerEvent {
  const event = (typeof data === "object" && data !== null ? data : {}) as Partial<
    Record<"type" | "message" | "code", unknown>
  >;
  if (
    event.type === "message" &&
    typeof event.message === "object" &&
    event.message !== null &&
    (event.message as { $typeName?: unknown }).$typeName === TYPE_NAME
  )
    return { type: "message", message: event.message as WatchProfileResponse };
  if (event.type === "end") return { type: "end" };
  if (event.type === "error" && typeof event.code === "number" && typeof event.message === "string")
    return { type: "error", code: CODES.get(event.code) ?? Code.Unknown, message: event.message };
  return {
    type: "error",
    code: Code.Internal,
    message: "an unreadable message from the profile worker",
  };
}

/**
 * The worker's side: waits for the one `watch` command, follows the stream
 * with `watch` and posts every message, then `end`, or `error`. It stops
 * when the main thread terminates the worker.
 */
export function serveProfileStream(
  scope: WorkerScopeLike,
  watch: (profileId: string, settings: WorkerTransportSettings) => AsyncIterable<unknown>,
): void {
  let started = false;
  scope.onmessage = ({ data }) => {
    const command = data as Partial<WatchCommand> | null;
    const profileId = command?.profileId;
    const settings = command?.settings;
    if (started || command?.type !== "watch" || typeof profileId !== "string" || !settings) return;
    started = true;
    void (async () => {
      try {
        for await (const message of watch(profileId, settings))
          scope.postMessage({ type: "message", message: message as WatchProfileResponse });
        scope.postMessage({ type: "end" });
      } catch (err) {
        scope.postMessage(errorEvent(err));
      }
    })();
  };
}

export interface StreamFromWorkerOptions {
  /** Starts the worker (the real one: `new Worker(new URL(...), { type: "module" })`). */
  spawn: () => WorkerLike;
  profileId: string;
  settings: WorkerTransportSettings;
  /** Aborting ends the stream with Code.Canceled, like the Connect client's. */
  signal: AbortSignal;
  /** The worker could not run (its script failed to load or threw): the caller may stop using workers. */
  onWorkerFailed?: () => void;
}

/**
 * The main thread's side: WatchProfile's messages as the Connect client
 * yields them, from a worker. The same errors: the server's ConnectError
 * codes as they were; Canceled on abort; Unavailable if the worker itself
 * fails (so the stream is retried, like a cut connection). Every wait ends:
 * on a worker event or on `signal` (the caller's idle timeout aborts it).
 */
export async function* streamFromWorker(
  options: StreamFromWorkerOptions,
): AsyncGenerator<WatchProfileResponse, void, undefined> {
  const { signal } = options;
  if (signal.aborted) throw new ConnectError("the operation was aborted", Code.Canceled);
  const queue: WorkerEvent[] = [];
  let wake: (() => void) | undefined;
  const push = (event: WorkerEvent) => {
    queue.push(event);
    wake?.();
  };
  let worker: WorkerLike;
  try {
    worker = options.spawn();
  } catch (err) {
    // E.g. a SecurityError where the page may not start workers.
    options.onWorkerFailed?.();
    throw new ConnectError(`the profile worker did not start: ${String(err)}`, Code.Unavailable);
  }
  let heard = false;
  worker.onmessage = (received) => {
    heard = true;
    // Chromium copies a message out of the worker when `data` is first read: timed, so that
    // bench/profile-view.bench.ts can tell what the finished profile cost the main thread.
    const copyStart = performance.now();
    const event = readEvent(received.data);
    if (event.type === "message" && event.message.profile?.result)
      performance.measure("stallwatch:profile-copy", { start: copyStart });
    push(event);
  };
  worker.onerror = (event) => {
    event.preventDefault?.();
    if (!heard) options.onWorkerFailed?.();
    push({
      type: "error",
      code: Code.Unavailable,
      message: `the profile worker failed${event.message ? `: ${event.message}` : ""}`,
    });
  };
  worker.onmessageerror = () =>
    push({
      type: "error",
      code: Code.Internal,
      message: "a profile worker message was unreadable",
    });
  // A function, not the property, so narrowing does not assume it never changes.
  const stopped = () => signal.aborted;
  const aborted = () => wake?.();
  signal.addEventListener("abort", aborted);
  try {
    worker.postMessage({ type: "watch", profileId: options.profileId, settings: options.settings });
    for (;;) {
      let event = queue.shift();
      while (!event) {
        if (stopped()) throw new ConnectError("the operation was aborted", Code.Canceled);
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        event = queue.shift();
      }
      if (stopped()) throw new ConnectError("the operation was aborted", Code.Canceled);
      if (event.type === "end") return;
      if (event.type === "error") throw errorFromEvent(event);
      yield event.message;
    }
  } finally {
    signal.removeEventListener("abort", aborted);
    worker.onmessage = worker.onerror = worker.onmessageerror = null;
    worker.terminate();
  }
}

/**
 * Where WatchProfile is followed: in a worker when this page can run one
 * (`Worker` exists, the transport is described for workers, no worker has
 * failed to run), the settings for it returned; else undefined, and the
 * caller stays on the main thread (unit tests in jsdom, a router transport,
 * a browser that refused the worker).
 */
export function workerSettingsIfUsable(env: {
  workerAvailable: boolean;
  settings: WorkerTransportSettings | undefined;
  workersFailed: boolean;
}): WorkerTransportSettings | undefined {
  return env.workerAvailable && !env.workersFailed ? env.settings : undefined;
}
