import { hostname } from "node:os";
import type { Command } from "../cli/command.js";
import { hostPortFlag, stringFlag } from "../cli/flags.js";
import { UsageError } from "../cli/usage-error.js";
import { startWorkerServer } from "./worker-server.js";

export const workerCommand: Command = {
  name: "worker",
  summary: "run the reference Spark UDF worker (UdfWorker over gRPC h2c)",
  help: `Usage: stallwatch worker --listen HOST:PORT [--id ID]

Runs the reference UDF worker. It serves org.apache.spark.udf.worker.UdfWorker
over cleartext HTTP/2 (gRPC): Manage answers heartbeats with worker-global
metrics and shutdown requests.

Flags:
  --listen HOST:PORT   where to serve gRPC (port 0 picks a free port; the
                       "listening" log line says which)
  --id ID              worker id (default: <hostname>-<pid>)
  -h, --help           show this help`,
  options: {
    listen: { type: "string" },
    id: { type: "string" },
  },
  async run(flags, log) {
    const listenText = stringFlag(flags, "listen");
    if (listenText === undefined) throw new UsageError("--listen HOST:PORT is required");
    const listen = hostPortFlag(listenText, "listen", { allowZero: true });
    const id = stringFlag(flags, "id", `${hostname()}-${process.pid}`);
    if (!/^[\w.:@-]{1,128}$/.test(id)) {
      throw new UsageError(`--id: "${id}" must be 1-128 letters, digits or . _ : @ -`);
    }
    const server = await startWorkerServer({ id, listen, log: log.child({ worker: id }) });
    return { stop: () => server.stop(), done: server.done };
  },
};
