import type { Command, FlagValues, Running } from "../shared/cli/command.js";
import { systemClock } from "../shared/clock/clock.js";
import type { Logger } from "../shared/logging/logger.js";
import { formatHostPort } from "../shared/net/host-port.js";
import { listen } from "../shared/net/listen.js";
import { refreshStaticTargets } from "./cluster/static-workers.js";
import {
  gatewayFlagOptions,
  loadGatewayConfig,
  type GatewayConfig,
} from "./config/gateway-config.js";
import { prepareCluster, type ClusterRuntime } from "./gateway-cluster.js";
import { GATEWAY_HELP } from "./gateway-help.js";
import { authFromConfig, gatewayOptionsFromConfig } from "./options-from-config.js";
import { createGateway } from "./gateway.js";
import { createEdgeListeners } from "./process-lifecycle/edge-listeners.js";
import { RefusalLog } from "./agent-endpoint/refusal-log.js";
import { isPostgresUrl, redactUrl } from "./store/connect.js";
import { openStore } from "./store/store.js";
import type { PolicyCrashPoint } from "./policies/policy-engine.js";
import { describePolicies, reloadPolicies } from "./policies/policy-reload.js";
import { policyFileProblems, readPolicyFile } from "./config/policy-settings.js";
import { storeFailureForCallers } from "./store/store-errors.js";

/** Exit code when the database cannot be opened or written (see README). */
export const EXIT_STORE = 3;
/**
 * Time a stop may take after its grace: late answers and arrivals (3 s),
 * answering accepted connections once the listener closed (5.5 s, then 1 s),
 * the store.
 */
const STOP_AFTER_GRACE_MS = 15_000;
/** After a storage fault, time for the request that hit it to get its answer. */
const FATAL_GRACE_MS = 1000;

export const gatewayCommand: Command = {
  name: "gateway",
  summary: "watch workers and serve the dashboard",
  help: GATEWAY_HELP,
  options: gatewayFlagOptions,
  run: (flags, log) => runGateway(flags, log),
};

/**
 * Test-only: `STALLWATCH_TEST_EXIT_AT=policy-decided` kills the process
 * (SIGKILL, as kill -9 would) right after a policy's decision to act is
 * committed and before its action starts, so a test can prove the restart
 * neither loses nor doubles it. Unset, or any other value, does nothing.
 */
function testCrashPoint(
  at: string | undefined,
  log: Logger,
): { crashAt?: (point: PolicyCrashPoint) => void } {
  if (at !== "policy-decided") return {};
  log.warn(
    { at },
    "STALLWATCH_TEST_EXIT_AT is set: this gateway kills itself at that point (tests only)",
  );
  return {
    crashAt: () => process.kill(process.pid, "SIGKILL"),
  };
}

/** What the configuration deserves a word about at start. */
function warnAtStart(config: GatewayConfig, flags: FlagValues, log: Logger): void {
  for (const warning of config.warnings) log.warn({ config: true }, warning);
  if (config.readOnly) {
    log.warn(
      { http: formatHostPort(config.http) },
      "listening beyond loopback without operator auth: read-only, actions disabled",
    );
  }
  if (!config.agentToken)
    log.warn(
      { grpc: formatHostPort(config.grpc) },
      "no --agent-token: agents are accepted from loopback peers only",
    );
  else if (flags["agent-token"] !== undefined)
    log.warn("--agent-token shows in ps; prefer STALLWATCH_AGENT_TOKEN or --agent-token-file");
}

/**
 * Opens the store, builds the gateway, binds both listeners (and --peer in a
 * cluster), and returns how to stop it all in order: refuse new requests,
 * leave the cluster, let requests in flight finish within the grace, then
 * close workers' streams, listeners and the store.
 */
async function runGateway(flags: FlagValues, log: Logger): Promise<Running> {
  const config = loadGatewayConfig(flags);
  warnAtStart(config, flags, log);
  let exitWith: ((code: number) => void) | undefined;
  const done = new Promise<number>((resolve) => (exitWith = resolve));
  // Set below, once there is something to stop.
  let stopFor: (
    reason: string,
    graceMs: number,
    refusal?: string,
  ) => Promise<void> = async () => {};
  const store = await openStore({
    path: config.dbPath,
    clock: systemClock,
    log,
    retention: {
      snapshotsMs: config.snapshotRetentionMs,
      eventsMs: config.eventRetentionMs,
      auditMs: config.auditRetentionMs,
    },
    ...(config.cluster ? { gatewayId: config.cluster.gatewayId } : {}),
    // A gateway that cannot record audit must not go on as if it could; the
    // request that hit the fault still gets its answer first.
    onFatal: (err) => {
      void stopFor(
        `database failure: ${err.code}`,
        FATAL_GRACE_MS,
        storeFailureForCallers(err),
      ).then(() => exitWith?.(EXIT_STORE));
    },
  });
  const auth = authFromConfig(config);
  const clusterStart = prepareCluster(config.cluster, store, auth, log, systemClock);
  const gateway = createGateway(
    gatewayOptionsFromConfig(config, {
      store,
      auth,
      cluster: clusterStart.gatewayOptions,
      clock: systemClock,
      ...testCrashPoint(process.env.STALLWATCH_TEST_EXIT_AT, log),
      onProbeThreadDied: (err) => {
        log.fatal({ err }, "a probe thread died");
        exitWith?.(1);
      },
      log,
    }),
  );
  const stopStatic = refreshStaticTargets(gateway.staticWorkers, {
    fixed: config.workers,
    dnsNames: config.workerDns,
    intervalMs: config.dnsIntervalMs,
    clock: systemClock,
    log,
  });
  // A flood of connections from one host is one log line per 10 s after the first 10.
  const connectionRefusals = new RefusalLog(
    log,
    10,
    10_000,
    "more worker connections refused than logged one by one",
  );
  const listeners = createEdgeListeners(
    { http: gateway.httpHandler, grpc: gateway.grpcHandler },
    systemClock,
    {
      maxConnectionsPerAddress: config.maxWorkerConnectionsPerAddress,
      onRefused: ({ address, open }) => {
        gateway.metrics.workerConnectionRefused();
        connectionRefusals.refused(
          "connections_per_address",
          { peer: address, open },
          `worker connection refused: ${address} already holds ${open} connections (--max-worker-connections-per-address)`,
        );
      },
    },
  );
  // A fatal failure is reported through onFatal.
  const storeCheck = systemClock.every(config.storeCheckMs, () => {
    store.probeWrite().catch(() => {});
  });
  let cluster: ClusterRuntime | undefined;

  /** The stop itself: refuse, leave the cluster, settle, answer, close. */
  const stopInOrder = async (reason: string, graceMs: number, refusal?: string) => {
    listeners.refuseNew(refusal);
    storeCheck.cancel();
    gateway.beginShutdown(reason);
    stopStatic();
    // Peers take this gateway's workers over now, not at the lease's end.
    await cluster?.leave();
    const startedMs = performance.now();
    const settled = await listeners.settled(graceMs);
    const tookMs = Math.round(performance.now() - startedMs);
    if (settled.why === "grace") {
      // Answered, not reset: every request accepted gets a response.
      const answered = await listeners.answerRunning();
      log.warn(
        { requests: answered, graceMs, why: settled.why },
        "requests still in flight at the end of the grace answered 503 with Retry-After",
      );
    } else log.info({ tookMs, why: settled.why }, "requests in flight settled");
    gateway.close();
    await listeners.close();
    await store.close();
  };
  let stopped: Promise<void> | undefined;
  stopFor = (reason, graceMs, refusal) => {
    stopped ??= (async () => {
      // The clock's timers are unref'd: once the listeners have closed, a
      // wait on one (the close answering the last connections) left the loop
      // empty, and the process exited 0 before its stop decided the exit
      // code (seen: 0 instead of 3 on a full disk). Held until the stop ends.
      const holdLoop = setInterval(() => {}, 60_000);
      try {
        await stopInOrder(reason, graceMs, refusal);
      } finally {
        clearInterval(holdLoop);
      }
    })();
    return stopped;
  };
  try {
    const httpBound = await listen(listeners.http, config.http, "http");
    gateway.httpBound(httpBound);
    const grpcBound = await listen(listeners.grpc, config.grpc, "grpc");
    cluster = await clusterStart.start(gateway, `http://${formatHostPort(httpBound)}`);
    log.info(
      {
        http: formatHostPort(httpBound),
        grpc: formatHostPort(grpcBound),
        url: `http://${formatHostPort(httpBound)}/`,
        workers: config.workers.length,
        probeThreads: gateway.prober.probeThreads,
        ...(cluster ? { gateway: config.cluster?.gatewayId, peer: cluster.peerUrl } : {}),
        readOnly: config.readOnly,
        db: isPostgresUrl(config.dbPath) ? redactUrl(config.dbPath) : config.dbPath,
      },
      "listening",
    );
  } catch (err) {
    await stopFor("start failed", 0);
    throw err;
  }
  // Settles what a previous process left running, once workers are back.
  void gateway.actions.reconcile(config.reconcileWaitMs).catch((err: unknown) => {
    log.error({ err: (err as Error).message }, "reconciling actions failed");
  });
  // Policies judge from now on; what a previous process decided but never
  // started is settled once workers had the same time to come back.
  gateway.policies.start(config.reconcileWaitMs);
  if (config.policies.length > 0)
    log.info(
      {
        source: config.policySource,
        policies: describePolicies(config.policies),
      },
      "policies loaded",
    );
  // SIGHUP reads the policy file again (policy-reload.ts); a broken file changes nothing.
  const onHangup = () =>
    reloadPolicies({
      path: config.policyFile,
      read: readPolicyFile,
      problemsOf: (err) => policyFileProblems(err, config.policyFile),
      engine: gateway.policies,
      log,
    });
  process.on("SIGHUP", onHangup);
  void done.then(() => process.off("SIGHUP", onHangup));
  const shutdown = () => stopFor("SIGTERM", config.shutdownGraceMs);
  // Beyond the grace: answering what is left, closing, the store's own wait.
  return { stop: shutdown, done, stopTimeoutMs: config.shutdownGraceMs + STOP_AFTER_GRACE_MS };
}
