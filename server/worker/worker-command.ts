import { hostname } from "node:os";
import type { Command } from "../shared/cli/command.js";
import { hostPortFlag, numberFlag, stringFlag } from "../shared/cli/flags.js";
import { UsageError } from "../shared/cli/usage-error.js";
import { startWorkerServer } from "./worker-server.js";
import { startAgentClient } from "./agent-client/agent-client.js";
import { startBeamStatusClient } from "./beam-client/beam-status-client.js";
import { isBeamSdkFormat } from "./beam-client/sdk-formats.js";
import { formatHostPort, isLoopbackHost } from "../shared/net/host-port.js";
import { readAgentToken } from "./agent-token.js";
import { STALLWATCH_VERSION } from "../shared/version.js";
import { systemClock } from "../shared/clock/clock.js";

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
  --max-payload-bytes N
                       largest UDF payload accepted (default 16777216)
  --cancel-grace-ms N  time user code gets to yield to a cancel before its
                       thread is terminated (default 2000)
  --gateway HOST:PORT  dial this Stallwatch gateway's agent endpoint (its --grpc
                       address): sessions, thread dumps, per-session cancel
  --advertise HOST:PORT
                       the Manage address to announce to the gateway (default:
                       the bound --listen address; a wildcard host is replaced by
                       the gateway with the address it sees us connect from)
  --agent-token TOKEN  the gateway's fleet agent token (prefer the environment
                       variable STALLWATCH_AGENT_TOKEN: flags show in ps)
  --agent-token-file FILE
                       read the agent token from FILE
  --beam-status HOST:PORT
                       Beam mode: dial this BeamFnWorkerStatus endpoint like a
                       Beam SDK harness and answer status requests
  --beam-format python|java|go
                       which Beam SDK's status text to write in Beam mode
                       (default python)
  -h, --help           show this help

Manage and Execute have no authentication (the upstream protocol has none):
keep --listen on loopback or a private network; see server/worker/README.md.`,
  options: {
    listen: { type: "string" },
    id: { type: "string" },
    "max-payload-bytes": { type: "string" },
    "cancel-grace-ms": { type: "string" },
    gateway: { type: "string" },
    "beam-status": { type: "string" },
    "beam-format": { type: "string" },
    advertise: { type: "string" },
    "agent-token": { type: "string" },
    "agent-token-file": { type: "string" },
  },
  async run(flags, log) {
    const listenText = stringFlag(flags, "listen");
    if (listenText === undefined) throw new UsageError("--listen HOST:PORT is required");
    const listen = hostPortFlag(listenText, "listen", { allowZero: true });
    const id = stringFlag(flags, "id", `${hostname()}-${process.pid}`);
    if (!/^[\w.:@-]{1,128}$/.test(id)) {
      throw new UsageError(`--id: "${id}" must be 1-128 letters, digits or . _ : @ -`);
    }
    const gatewayText = stringFlag(flags, "gateway");
    const gateway = gatewayText === undefined ? undefined : hostPortFlag(gatewayText, "gateway");
    const beamText = stringFlag(flags, "beam-status");
    const beamStatus = beamText === undefined ? undefined : hostPortFlag(beamText, "beam-status");
    const beamFormat = stringFlag(flags, "beam-format", "python");
    if (!isBeamSdkFormat(beamFormat))
      throw new UsageError(`--beam-format: "${beamFormat}" must be python, java or go`);
    const advertiseText = stringFlag(flags, "advertise");
    const advertise =
      advertiseText === undefined ? undefined : hostPortFlag(advertiseText, "advertise");
    const agentToken = readAgentToken(flags, process.env);
    if (!isLoopbackHost(listen.host))
      log.warn(
        { listen: formatHostPort(listen) },
        "Manage and Execute have no authentication and listen beyond loopback: keep this port on a private network (see server/worker/README.md)",
      );
    if (flags["agent-token"] !== undefined)
      log.warn("--agent-token shows in ps; prefer STALLWATCH_AGENT_TOKEN or --agent-token-file");
    const server = await startWorkerServer({
      id,
      listen,
      log: log.child({ worker: id }),
      maxPayloadBytes: numberFlag(flags, "max-payload-bytes", 16 << 20, 1),
      cancelGraceMs: numberFlag(flags, "cancel-grace-ms", 2000, 0),
      clock: systemClock,
    });
    const workerLog = log.child({ worker: id });
    const agent = gateway
      ? startAgentClient({
          gatewayAddress: gateway,
          announce: {
            workerId: id,
            manageAddress: formatHostPort(advertise ?? server.address),
            pid: process.pid,
            host: hostname(),
            runtime: `node ${process.version}`,
            version: STALLWATCH_VERSION,
            startedAtMs: BigInt(server.stats.startedAtMs),
            capabilities: ["sessions", "thread-dump", "cancel-session", "profile", "profile-cpu"],
          },
          source: server.sessions,
          clock: systemClock,
          log: workerLog,
          ...(agentToken ? { agentToken } : {}),
        })
      : undefined;
    const beam = beamStatus
      ? startBeamStatusClient({
          statusAddress: beamStatus,
          workerId: id,
          source: server.sessions,
          clock: systemClock,
          format: beamFormat,
          log: workerLog,
        })
      : undefined;
    const stopClients = () => Promise.all([agent?.stop(), beam?.stop()]);
    return {
      async stop() {
        await stopClients();
        await server.stop();
      },
      done: server.done.then(async (code) => {
        await stopClients();
        return code;
      }),
    };
  },
};
