import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ProfileMode, ProfileResultSchema } from "../../../../gen/stallwatch/v1/agent_pb";
import { ActionStatus } from "../../../../gen/stallwatch/v1/control_pb";
import {
  WatchProfileResponseSchema,
  type WatchProfileResponse,
} from "../../../../gen/stallwatch/v1/profile_pb";
import type { WorkerTransportSettings } from "../../../shared/worker-transport";
import {
  errorEvent,
  errorFromEvent,
  readEvent,
  serveProfileStream,
  streamFromWorker,
  workerSettingsIfUsable,
  type WorkerLike,
  type WorkerScopeLike,
} from "./profile-stream";

const SETTINGS: WorkerTransportSettings = {
  baseUrl: "http://127.0.0.1:8080",
  useBinaryFormat: true,
  headers: { authorization: "Bearer op-token" },
};

function finished(): WatchProfileResponse {
  return create(WatchProfileResponseSchema, {
    elapsedMs: 3000,
    profile: {
      profileId: "p1",
      status: ActionStatus.SUCCEEDED,
      startedAtMs: 1_700_000_000_000n,
      result: create(ProfileResultSchema, {
        mode: ProfileMode.CPU,
        frames: [{ function: "process", file: "demo-udfs.js", line: 12 }],
        threads: [
          {
            threadId: "t1",
            samplesTaken: 2n ** 40n,
            stacks: [{ frames: [0], count: 99n }],
          },
        ],
      }),
    },
  });
}

const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * A worker in this thread: the two sides of profile-stream.ts joined by
 * structured clone and a task per message, as between threads. `watch` is
 * the worker's stream; termination aborts `terminated` and silences it.
 */
function fakeWorker(
  watch: (
    profileId: string,
    settings: WorkerTransportSettings,
    terminated: AbortSignal,
  ) => AsyncIterable<unknown>,
) {
  const terminated = new AbortController();
  const commands: unknown[] = [];
  const scope: WorkerScopeLike = {
    onmessage: null,
    postMessage: (event) => {
      const copy = structuredClone(event);
      setTimeout(() => {
        if (!terminated.signal.aborted) worker.onmessage?.({ data: copy });
      }, 0);
    },
  };
  const worker: WorkerLike & { terminated: AbortSignal; commands: unknown[] } = {
    terminated: terminated.signal,
    commands,
    onmessage: null,
    onerror: null,
    onmessageerror: null,
    postMessage: (command) => {
      const copy = structuredClone(command);
      commands.push(copy);
      setTimeout(() => scope.onmessage?.({ data: copy }), 0);
    },
    terminate: () => terminated.abort(),
  };
  serveProfileStream(scope, (profileId, settings) => watch(profileId, settings, terminated.signal));
  return worker;
}

async function collect(stream: AsyncIterable<WatchProfileResponse>) {
  const got: WatchProfileResponse[] = [];
  for await (const m of stream) got.push(m);
  return got;
}

async function failure(stream: AsyncIterable<WatchProfileResponse>): Promise<ConnectError> {
  try {
    await collect(stream);
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("the stream did not fail");
}

describe("the worker's messages", () => {
  it("reads a response, the end and an error; anything else is an Internal error", () => {
    const message = finished();
    expect(readEvent({ type: "message", message })).toEqual({ type: "message", message });
    expect(readEvent({ type: "end" })).toEqual({ type: "end" });
    expect(readEvent({ type: "error", code: Code.NotFound, message: "no such profile" })).toEqual({
      type: "error",
      code: Code.NotFound,
      message: "no such profile",
    });
    for (const junk of [
      null,
      "end",
      { type: "message", message: { $typeName: "stallwatch.v1.Profile" } },
      { type: "message" },
      { type: "error", code: "5", message: "x" },
      { type: "progress" },
    ])
      expect(readEvent(junk)).toMatchObject({ type: "error", code: Code.Internal });
    // A code this Connect does not know stays an error, Unknown.
    expect(readEvent({ type: "error", code: 999, message: "x" })).toMatchObject({
      code: Code.Unknown,
    });
  });

  it("carries a ConnectError's code and message across, the fatal codes included", () => {
    for (const code of [
      Code.NotFound,
      Code.InvalidArgument,
      Code.PermissionDenied,
      Code.Unauthenticated,
      Code.Unavailable,
    ]) {
      const event = structuredClone(errorEvent(new ConnectError("why", code)));
      const error = errorFromEvent(readEvent(event) as typeof event);
      expect(error).toBeInstanceOf(ConnectError);
      expect(error.code).toBe(code);
      expect(error.rawMessage).toBe("why");
    }
    // Not a ConnectError (e.g. a fetch TypeError): Unknown, as ConnectError.from says.
    expect(errorEvent(new TypeError("Failed to fetch"))).toEqual({
      type: "error",
      code: Code.Unknown,
      message: "Failed to fetch",
    });
  });
});

describe("a profile followed in a worker", () => {
  it("yields the worker's decoded messages whole (bigint, $typeName), then ends and terminates it", async () => {
    const running = create(WatchProfileResponseSchema, {
      elapsedMs: 1000,
      profile: { profileId: "p1", status: ActionStatus.RUNNING },
    });
    const seen: { profileId: string; settings: WorkerTransportSettings }[] = [];
    const worker = fakeWorker(async function* (profileId, settings) {
      seen.push({ profileId, settings });
      yield running;
      await nextTurn();
      yield finished();
    });
    const got = await collect(
      streamFromWorker({
        spawn: () => worker,
        profileId: "p1",
        settings: SETTINGS,
        signal: new AbortController().signal,
      }),
    );
    expect(seen).toEqual([{ profileId: "p1", settings: SETTINGS }]);
    expect(got).toEqual([running, finished()]);
    expect(got[1]?.$typeName).toBe("stallwatch.v1.WatchProfileResponse");
    expect(got[1]?.profile?.result?.threads[0]?.samplesTaken).toBe(2n ** 40n);
    expect(worker.terminated.aborted).toBe(true);
  });

  it("fails with the server's code (NotFound stays NotFound, so it is fatal) and terminates", async () => {
    const worker = fakeWorker(async function* () {
      await nextTurn();
      yield* [];
      throw new ConnectError("profile p9 not found", Code.NotFound);
    });
    const error = await failure(
      streamFromWorker({
        spawn: () => worker,
        profileId: "p9",
        settings: SETTINGS,
        signal: new AbortController().signal,
      }),
    );
    expect(error.code).toBe(Code.NotFound);
    expect(error.rawMessage).toBe("profile p9 not found");
    expect(worker.terminated.aborted).toBe(true);
  });

  it("on abort fails with Canceled, like the Connect client, and terminates the worker's stream", async () => {
    let serverStopped = false;
    const worker = fakeWorker(async function* (_id, _settings, terminated) {
      yield create(WatchProfileResponseSchema, { elapsedMs: 1 });
      try {
        // Never ends by itself: only termination stops it.
        await new Promise((resolve) => terminated.addEventListener("abort", resolve));
      } finally {
        serverStopped = true;
      }
    });
    const abort = new AbortController();
    const stream = streamFromWorker({
      spawn: () => worker,
      profileId: "p1",
      settings: SETTINGS,
      signal: abort.signal,
    });
    const first = await stream.next();
    expect(first.value?.elapsedMs).toBe(1);
    const second = stream.next();
    setTimeout(() => abort.abort(), 5);
    await expect(second).rejects.toMatchObject({ code: Code.Canceled });
    expect(worker.terminated.aborted).toBe(true);
    await nextTurn();
    expect(serverStopped).toBe(true);
  });

  it("does not start a worker when already aborted", async () => {
    let spawned = 0;
    const abort = new AbortController();
    abort.abort();
    const error = await failure(
      streamFromWorker({
        spawn: () => {
          spawned += 1;
          return fakeWorker(async function* () {});
        },
        profileId: "p1",
        settings: SETTINGS,
        signal: abort.signal,
      }),
    );
    expect(error.code).toBe(Code.Canceled);
    expect(spawned).toBe(0);
  });

  it("terminates the worker when the reader stops early", async () => {
    const worker = fakeWorker(async function* () {
      for (let i = 0; ; i++) {
        yield create(WatchProfileResponseSchema, { elapsedMs: i });
        await nextTurn();
      }
    });
    for await (const m of streamFromWorker({
      spawn: () => worker,
      profileId: "p1",
      settings: SETTINGS,
      signal: new AbortController().signal,
    }))
      if (m.elapsedMs === 2) break;
    expect(worker.terminated.aborted).toBe(true);
  });

  it("a worker that fails to run: Unavailable (retried), and the caller is told to stop using workers", async () => {
    let failed = 0;
    const worker = fakeWorker(async function* () {});
    worker.postMessage = () =>
      setTimeout(() => worker.onerror?.({ message: "404 profile-stream.worker.js" }), 0);
    const error = await failure(
      streamFromWorker({
        spawn: () => worker,
        profileId: "p1",
        settings: SETTINGS,
        signal: new AbortController().signal,
        onWorkerFailed: () => (failed += 1),
      }),
    );
    expect(error.code).toBe(Code.Unavailable);
    expect(error.rawMessage).toContain("404 profile-stream.worker.js");
    expect(failed).toBe(1);
    expect(worker.terminated.aborted).toBe(true);
  });

  it("a worker that cannot start: Unavailable, and the caller is told to stop using workers", async () => {
    let failed = 0;
    const error = await failure(
      streamFromWorker({
        spawn: () => {
          throw new DOMException("workers refused", "SecurityError");
        },
        profileId: "p1",
        settings: SETTINGS,
        signal: new AbortController().signal,
        onWorkerFailed: () => (failed += 1),
      }),
    );
    expect(error.code).toBe(Code.Unavailable);
    expect(error.rawMessage).toContain("workers refused");
    expect(failed).toBe(1);
  });

  it("the worker follows one stream only: a second command is ignored", async () => {
    let watched = 0;
    const scope: WorkerScopeLike = { onmessage: null, postMessage: () => undefined };
    serveProfileStream(scope, async function* () {
      watched += 1;
      await nextTurn();
      yield* [];
    });
    scope.onmessage?.({ data: { type: "nonsense" } });
    scope.onmessage?.({ data: { type: "watch", profileId: "p1", settings: SETTINGS } });
    scope.onmessage?.({ data: { type: "watch", profileId: "p2", settings: SETTINGS } });
    await nextTurn();
    expect(watched).toBe(1);
  });
});

describe("where the stream is read", () => {
  it("in a worker only with Worker, a transport described for workers, and no worker failed", () => {
    expect(
      workerSettingsIfUsable({ workerAvailable: true, settings: SETTINGS, workersFailed: false }),
    ).toBe(SETTINGS);
    // jsdom and Node (the unit tests) have no Worker: the main thread.
    expect(
      workerSettingsIfUsable({ workerAvailable: false, settings: SETTINGS, workersFailed: false }),
    ).toBeUndefined();
    // A test's router transport cannot be reached from a worker.
    expect(
      workerSettingsIfUsable({ workerAvailable: true, settings: undefined, workersFailed: false }),
    ).toBeUndefined();
    expect(
      workerSettingsIfUsable({ workerAvailable: true, settings: SETTINGS, workersFailed: true }),
    ).toBeUndefined();
  });
});
