import http2 from "node:http2";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { UdfWorker } from "../../gen/org/apache/spark/udf/worker/udf_service_pb.js";
import type { ShutdownRequest } from "../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import type { Logger } from "../logging/logger.js";
import { closeServer, listen } from "../net/listen.js";
import { formatHostPort, type HostPort } from "../net/host-port.js";
import { createManageHandler } from "./manage-handler.js";
import { WorkerStats } from "./worker-stats.js";

export interface WorkerServerOptions {
  id: string;
  listen: HostPort;
  log: Logger;
}

export interface WorkerServer {
  id: string;
  address: HostPort;
  stats: WorkerStats;
  /** Resolves with the exit code once a Manage shutdown has settled. */
  done: Promise<number>;
  stop(): Promise<void>;
}

/**
 * The reference UDF worker: `UdfWorker` over h2c. `Manage` answers heartbeats
 * and shutdowns; `Execute` is refused with UNIMPLEMENTED until the session
 * state machine lands.
 */
export async function startWorkerServer(opts: WorkerServerOptions): Promise<WorkerServer> {
  const { log } = opts;
  const stats = new WorkerStats();
  let draining = false;
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));

  const shutdown = (request: ShutdownRequest): boolean => {
    const settled = stats.activeSessions === 0;
    if (!draining) {
      draining = true;
      log.info(
        { reason: request.reason, cancelSessions: request.cancelSessions ?? false, settled },
        "shutdown requested",
      );
      // Let the ShutdownResponse reach the caller before the process ends.
      if (settled) setTimeout(() => void server.stop().then(() => resolveDone(0)), 100).unref();
    }
    return settled;
  };

  const manage = createManageHandler({ stats, shutdown });
  const routes = (router: ConnectRouter) =>
    router.service(UdfWorker, {
      manage: (request) => manage(request),
      // eslint-disable-next-line require-yield -- refuses before reading the stream
      async *execute() {
        await Promise.resolve();
        throw new ConnectError(
          "Execute is not implemented by this worker yet; only Manage is served",
          Code.Unimplemented,
        );
      },
    });

  const h2 = http2.createServer(
    connectNodeAdapter({ routes, grpc: true, connect: false, grpcWeb: false }),
  );
  const address = await listen(h2, opts.listen, "listen");
  log.info({ id: opts.id, address: formatHostPort(address) }, "listening");

  const server: WorkerServer = {
    id: opts.id,
    address,
    stats,
    done,
    async stop() {
      stats.close();
      await closeServer(h2, 1000);
    },
  };
  return server;
}
