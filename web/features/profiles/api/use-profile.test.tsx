// @vitest-environment jsdom
import { create } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createClient,
  createRouterTransport,
  type Transport,
} from "@connectrpc/connect";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ProfileResultSchema } from "../../../../gen/stallwatch/v1/agent_pb";
import { ActionStatus } from "../../../../gen/stallwatch/v1/control_pb";
import { ProfileSchema, ProfileService } from "../../../../gen/stallwatch/v1/profile_pb";
import { TransportProvider } from "../../../shared/transport-context";
import { describeForWorkers, type WorkerTransportSettings } from "../../../shared/worker-transport";
import {
  serveProfileStream,
  type WatchCommand,
  type WorkerLike,
  type WorkerScopeLike,
} from "./profile-stream";
import { useProfile } from "./use-profile";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  FakeWorker.made = [];
});

const SETTINGS: WorkerTransportSettings = {
  baseUrl: "http://127.0.0.1:8080",
  useBinaryFormat: true,
  headers: { authorization: "Bearer op-token" },
};

const done = create(ProfileSchema, {
  profileId: "p1",
  status: ActionStatus.SUCCEEDED,
  result: create(ProfileResultSchema, {
    frames: [{ function: "process", file: "demo-udfs.js", line: 12 }],
    threads: [{ threadId: "t1", samplesTaken: 10n, stacks: [{ frames: [0], count: 10n }] }],
  }),
});

/** The gateway's WatchProfile: what `watch` yields or throws; `opened` counts calls. */
function gateway(
  watch: (signal: AbortSignal) => AsyncIterable<{ profile?: typeof done; elapsedMs: number }>,
) {
  const calls = { opened: 0 };
  const transport = createRouterTransport(({ service }) => {
    service(ProfileService, {
      watchProfile: (_req, ctx) => {
        calls.opened += 1;
        return watch(ctx.signal);
      },
    });
  });
  return { transport, calls };
}

/**
 * `Worker` as the page would have it: runs profile-stream.worker.ts's side
 * in this thread over `FakeWorker.server` (the real worker makes a
 * transport from the settings; here the router transport stands for it).
 */
class FakeWorker implements WorkerLike {
  static made: FakeWorker[] = [];
  static server: Transport | undefined;
  onmessage: WorkerLike["onmessage"] = null;
  onerror: WorkerLike["onerror"] = null;
  onmessageerror: WorkerLike["onmessageerror"] = null;
  readonly terminated = new AbortController();
  readonly commands: WatchCommand[] = [];
  private readonly scope: WorkerScopeLike;

  constructor(
    readonly url: URL,
    readonly options: WorkerOptions,
  ) {
    FakeWorker.made.push(this);
    const signal = this.terminated.signal;
    this.scope = {
      onmessage: null,
      postMessage: (event) => {
        const copy = structuredClone(event);
        setTimeout(() => {
          if (!signal.aborted) this.onmessage?.({ data: copy });
        }, 0);
      },
    };
    const server = FakeWorker.server;
    if (!server) throw new Error("FakeWorker.server unset");
    serveProfileStream(this.scope, (profileId) =>
      createClient(ProfileService, server).watchProfile({ profileId }, { signal }),
    );
  }

  postMessage(command: WatchCommand) {
    this.commands.push(structuredClone(command));
    setTimeout(() => this.scope.onmessage?.({ data: command }), 0);
  }

  terminate() {
    this.terminated.abort();
  }
}

function renderUseProfile(transport: Transport) {
  const wrapper = ({ children }: { children: ReactNode }) => (
    <TransportProvider transport={transport}>
      <QueryClientProvider client={new QueryClient()}>{children}</QueryClientProvider>
    </TransportProvider>
  );
  return renderHook(() => useProfile("p1"), { wrapper });
}

describe("useProfile", () => {
  it("without Worker (jsdom), reads the stream on the main thread", async () => {
    expect(typeof Worker).toBe("undefined");
    const { transport, calls } = gateway(async function* () {
      await Promise.resolve();
      yield { profile: done, elapsedMs: 3000 };
    });
    describeForWorkers(transport, () => SETTINGS);
    const { result } = renderUseProfile(transport);
    await waitFor(() => expect(result.current.data.profile?.status).toBe(ActionStatus.SUCCEEDED));
    expect(result.current.data.elapsedMs).toBe(3000);
    expect(calls.opened).toBe(1);
    expect(result.current.status).toBe("ended");
  });

  it("with Worker but a transport no worker can reach (not described), stays on the main thread", async () => {
    vi.stubGlobal("Worker", FakeWorker);
    const { transport } = gateway(async function* () {
      await Promise.resolve();
      yield { profile: done, elapsedMs: 3000 };
    });
    FakeWorker.server = transport;
    const { result } = renderUseProfile(transport);
    await waitFor(() => expect(result.current.data.profile?.status).toBe(ActionStatus.SUCCEEDED));
    expect(FakeWorker.made).toHaveLength(0);
  });

  it("with Worker, follows the profile in a module worker with the app's settings, then ends it", async () => {
    vi.stubGlobal("Worker", FakeWorker);
    const { transport, calls } = gateway(async function* () {
      await Promise.resolve();
      yield {
        profile: create(ProfileSchema, { profileId: "p1", status: ActionStatus.RUNNING }),
        elapsedMs: 1000,
      };
      yield { profile: done, elapsedMs: 3000 };
    });
    FakeWorker.server = transport;
    describeForWorkers(transport, () => SETTINGS);
    const { result } = renderUseProfile(transport);
    await waitFor(() => expect(result.current.data.profile?.status).toBe(ActionStatus.SUCCEEDED));
    expect(result.current.data.profile?.result?.threads[0]?.samplesTaken).toBe(10n);
    expect(calls.opened).toBe(1);
    const [worker] = FakeWorker.made;
    expect(FakeWorker.made).toHaveLength(1);
    expect(worker?.url.pathname).toMatch(/profile-stream\.worker\.ts$/);
    expect(worker?.options.type).toBe("module");
    expect(worker?.commands).toEqual([{ type: "watch", profileId: "p1", settings: SETTINGS }]);
    await waitFor(() => expect(worker?.terminated.signal.aborted).toBe(true));
  });

  it("a fatal code from the worker's stream is fatal here too (NotFound), with no retry", async () => {
    vi.stubGlobal("Worker", FakeWorker);
    const { transport, calls } = gateway(async function* () {
      await Promise.resolve();
      yield* [];
      throw new ConnectError("profile p1 not found", Code.NotFound);
    });
    FakeWorker.server = transport;
    describeForWorkers(transport, () => SETTINGS);
    const { result } = renderUseProfile(transport);
    await waitFor(() => expect(result.current.fatal?.code).toBe(Code.NotFound));
    expect(result.current.fatal?.rawMessage).toBe("profile p1 not found");
    expect(calls.opened).toBe(1);
  });

  it("leaving the view terminates the worker and the stream it followed", async () => {
    vi.stubGlobal("Worker", FakeWorker);
    let serverStopped = false;
    const { transport } = gateway(async function* (signal) {
      yield {
        profile: create(ProfileSchema, { profileId: "p1", status: ActionStatus.RUNNING }),
        elapsedMs: 1000,
      };
      try {
        await new Promise((resolve) => signal.addEventListener("abort", resolve));
      } finally {
        serverStopped = true;
      }
    });
    FakeWorker.server = transport;
    describeForWorkers(transport, () => SETTINGS);
    const { result, unmount } = renderUseProfile(transport);
    await waitFor(() => expect(result.current.data.elapsedMs).toBe(1000));
    unmount();
    const [worker] = FakeWorker.made;
    await waitFor(() => expect(worker?.terminated.signal.aborted).toBe(true));
    await waitFor(() => expect(serverStopped).toBe(true));
  });
});
