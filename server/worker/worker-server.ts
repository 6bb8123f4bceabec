import http2 from "node:http2";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { UdfWorker } from "../../gen/org/apache/spark/udf/worker/udf_service_pb.js";
import type { ShutdownRequest } from "../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import type { Logger } from "../shared/logging/logger.js";
import { closeServer, listen } from "../shared/net/listen.js";
import { formatHostPort, type HostPort } from "../shared/net/host-port.js";
import { sleep, type Clock } from "../shared/clock/clock.js";
import { ExecuteSession } from "./execute/execute-session.js";
import { createManageHandler } from "./manage/manage-handler.js";
import { SessionRegistry } from "./sessions/session-registry.js";
import { UdfThreadPool } from "./udf/udf-thread-pool.js";
import { WorkerStats } from "./stats/worker-stats.js";

export interface WorkerServerOptions {
  id: string;
  listen: HostPort;
  log: Logger;
  /** Largest assembled UDF payload accepted (default 16 MiB). */
  maxPayloadBytes?: number;
  /** Grace before a non-yielding UDF's thread is terminated (default 2 s). */
  cancelGraceMs?: number;
  /** Time for every service of the worker (default: real). */
  clock: Clock;
}

export interface WorkerServer {
  id: string;
  address: HostPort;
  stats: WorkerStats;
  sessions: SessionRegistry;
  /** Resolves with the exit code once a Manage shutdown has settled. */
  done: Promise<number>;
  stop(): Promise<void>;
}

/** Largest message the engine may send on a stream (a batch or a chunk). */
const MAX_MESSAGE_BYTES = 64 << 20;

/**
 * The reference UDF worker: `UdfWorker` over h2c. Execute runs each session's
 * user code on its own thread; Manage answers heartbeats and shutdowns from
 * the event loop, so it stays serviceable while user code spins or blocks.
 */
export async function startWorkerServer(opts: WorkerServerOptions): Promise<WorkerServer> {
  const { log } = opts;
  const clock = opts.clock;
  const stats = new WorkerStats(clock);
  const sessions = new SessionRegistry(clock);
  const cancelGraceMs = opts.cancelGraceMs ?? 2000;
  let draining = false;
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));

  const exitWhenIdle = () => {
    void sessions.whenIdle().then(async () => {
      // Let the last responses (and the ShutdownResponse) reach their callers.
      await sleep(clock, 200);
      await server.stop();
      log.info("all sessions settled; exiting");
      resolveDone(0);
    });
  };

  const shutdown = (request: ShutdownRequest): boolean => {
    const settled = sessions.activeCount === 0;
    const cancel = request.cancelSessions ?? false;
    log.info(
      { reason: request.reason, cancelSessions: cancel, inFlight: sessions.activeCount },
      "shutdown requested",
    );
    if (cancel) void sessions.cancelAll(request.reason ?? "worker shutdown", cancelGraceMs);
    if (!draining) {
      draining = true;
      exitWhenIdle();
    }
    return settled;
  };

  const manage = createManageHandler({ stats, shutdown });
  const threads = new UdfThreadPool(4, 2, clock);
  const host = {
    stats,
    threads,
    registry: sessions,
    log,
    maxPayloadBytes: opts.maxPayloadBytes ?? 16 << 20,
    clock,
    cancelGraceMs,
    cancelWaitMs: 30_000,
  };
  const routes = (router: ConnectRouter) =>
    router.service(UdfWorker, {
      manage: (request) => manage(request),
      async *execute(requests, context) {
        if (draining) {
          throw new ConnectError(
            "this worker is draining: it takes no new sessions",
            Code.Unavailable,
          );
        }
        const session = new ExecuteSession(requests, host, context.signal);
        log.debug({ session: session.id }, "session started");
        yield* session.run();
      },
    });

  const h2 = http2.createServer(
    connectNodeAdapter({
      routes,
      grpc: true,
      connect: false,
      grpcWeb: false,
      readMaxBytes: MAX_MESSAGE_BYTES,
    }),
  );
  const address = await listen(h2, opts.listen, "listen");
  log.info({ id: opts.id, address: formatHostPort(address) }, "listening");

  let stopped = false;
  const server: WorkerServer = {
    id: opts.id,
    address,
    stats,
    sessions,
    done,
    async stop() {
      if (stopped) return;
      stopped = true;
      await sessions.cancelAll("worker stopping", Math.min(cancelGraceMs, 1000));
      await threads.close();
      stats.close();
      await closeServer(h2, 1000);
    },
  };
  return server;
}
