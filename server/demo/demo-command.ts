import { randomBytes } from "node:crypto";
import { demoPolicyFile } from "./demo-policies.js";
import type { Command } from "../shared/cli/command.js";
import { hostPortFlag, numberFlag, stringFlag } from "../shared/cli/flags.js";
import { MIN_TOKEN_LENGTH } from "../shared/cli/secret-flags.js";
import { UsageError } from "../shared/cli/usage-error.js";
import { formatHostPort } from "../shared/net/host-port.js";
import { logOutput } from "../shared/logging/logger.js";
import { DemoChildren } from "./demo-children.js";
import { startDemoEngines, startPythonEngines } from "./demo-engines.js";
import { startDemoPythonWorker } from "./demo-python.js";
import { beamFormatsFor, killPeriodically, startDemoWorkers } from "./demo-fleet.js";
import { demoBanner, DEFAULT_DEMO_LOG } from "./demo-banner.js";

const SCENARIOS = ["incident", "calm"] as const;
type Scenario = (typeof SCENARIOS)[number];

export const demoCommand: Command = {
  name: "demo",
  summary: "run a demo fleet: gateway, workers and engines, with a real incident",
  help: `Usage: stallwatch demo [--workers N] [--scenario incident|calm] [--http HOST:PORT] [--grpc HOST:PORT]

Starts the gateway, reference workers (with agents; Beam harnesses in the
incident) and engines driving Execute sessions. The "incident" scenario
(default) makes the dashboard show a real incident:
  demo-1  one session hung in user code (never yields: cancel escalates)
  demo-2  a slow worker (every batch takes seconds)
  demo-3  a session spinning a CPU (yields to cancel)
  demo-4  dies every 90 s and is restarted 8 s later
  demo-5  in Beam mode (a Beam SDK harness look-alike writing Python's text)
  demo-beam-java, demo-beam-go
          two more Beam harnesses writing Java's and Go's text, each hung
  demo-py the Python reference worker (/usr/bin/python3 -m stallwatch_worker,
          grpcio, with its agent): a session hung in a socket read; without a
          Debian Python with grpcio the demo runs without it and says so
  others  healthy under load
Ctrl-C stops every process it started.

On a terminal it prints a short banner (dashboard URL, operator link, what
the incident contains, where logs go), writes the full log as JSON to
${DEFAULT_DEMO_LOG} (or --log-file) and shows warnings and key events.
Piped, or with --log-format json, it logs JSON lines on stdout; the operator
token is logged only when it was generated here (there is no other way to
learn it), never when given with --operator-token.

Flags:
  --workers N              how many agent workers (default 6, at least 5 for
                           "incident", which adds demo-beam-java and demo-beam-go)
  --scenario NAME          incident (default) or calm (load only)
  --http HOST:PORT         dashboard (default 127.0.0.1:8080)
  --grpc HOST:PORT         gateway's worker-facing gRPC (default 127.0.0.1:8081)
  --operator-token TOKEN   operator token (default: a random one, printed)
  --db PATH                gateway database (default ./.stallwatch/demo.db)
  --policy-file FILE       remediation policies for the gateway (default
                           server/demo/policies.yaml: two policies in dry run)
  -h, --help               show this help`,
  options: {
    workers: { type: "string" },
    scenario: { type: "string" },
    http: { type: "string" },
    grpc: { type: "string" },
    "operator-token": { type: "string" },
    db: { type: "string" },
    "policy-file": { type: "string" },
  },
  async run(flags, log) {
    const count = numberFlag(flags, "workers", 6, 1);
    const scenario = stringFlag(flags, "scenario", "incident") as Scenario;
    if (!SCENARIOS.includes(scenario))
      throw new UsageError(`--scenario: one of ${SCENARIOS.join(", ")}`);
    if (count > 64) throw new UsageError("--workers: at most 64 in the demo");
    if (scenario === "incident" && count < 5)
      throw new UsageError('--workers: the "incident" scenario needs at least 5');
    const http = formatHostPort(
      hostPortFlag(stringFlag(flags, "http", "127.0.0.1:8080"), "http", { allowZero: true }),
    );
    const grpcAt = formatHostPort(
      hostPortFlag(stringFlag(flags, "grpc", "127.0.0.1:8081"), "grpc", { allowZero: true }),
    );
    const givenToken = stringFlag(flags, "operator-token");
    const token = givenToken ?? randomBytes(18).toString("base64url");
    if (token.length < MIN_TOKEN_LENGTH)
      throw new UsageError(`--operator-token: at least ${MIN_TOKEN_LENGTH} characters`);
    const out = logOutput();
    // A person at a terminal gets a banner; the full log goes to a file.
    const banner = process.stdout.isTTY && out.format === "pretty";
    if (banner && !out.file) out.useFile(DEFAULT_DEMO_LOG, { truncate: true });
    const db = stringFlag(flags, "db", "./.stallwatch/demo.db");
    const policyFile = stringFlag(flags, "policy-file") ?? demoPolicyFile();

    const children = new DemoChildren(log);
    try {
      const gateway = children.spawn(
        "gateway",
        [
          "gateway",
          "--http",
          http,
          "--grpc",
          grpcAt,
          "--db",
          db,
          // Tighter than production so the incident shows within a minute.
          "--stall-no-progress-ms",
          "20000",
          "--stall-processing-ms",
          "15000",
          ...(policyFile ? ["--policy-file", policyFile] : []),
        ],
        // Not a flag: flags show in `ps` (the gateway warns about it).
        { STALLWATCH_OPERATOR_TOKEN: token },
      );
      const up = await gateway.listening;
      const grpc = String(up.grpc);
      const url = String(up.url);
      void gateway.exited.then((code) => {
        if (children.stopping) return;
        log.error({ code }, "the gateway exited; stopping the demo");
        void children.stopAll().then(() => process.exit(1));
      });

      const beamFormats = beamFormatsFor(scenario);
      const beamIds = [...beamFormats.keys()];
      const extraBeamIds = beamIds.filter((id) => id !== "demo-5");
      const ids = [...Array.from({ length: count }, (_, i) => `demo-${i + 1}`), ...extraBeamIds];
      const addresses = await startDemoWorkers(children, ids, grpc, beamFormats, log);
      // After ours: on a busy machine eight workers starting at once is contention enough.
      const python = await startDemoPythonWorker(children, grpc, log);
      startDemoEngines(children, {
        incident: scenario === "incident",
        ids,
        beamIds,
        extraBeamIds,
        at: (id) => addresses.get(id) ?? "",
      });
      if ("address" in python)
        startPythonEngines(children, python.address, scenario === "incident");
      if (scenario === "incident") killPeriodically(children, log);

      const operatorUrl = `${url}#operator-token=${token}`;
      log.info(
        // The token only where it is needed: nobody else knows a generated one.
        {
          url,
          ...(givenToken || banner ? {} : { operatorUrl }),
          workers: ids.length,
          scenario,
          python: "address" in python ? python.address : `not started: ${python.problem}`,
        },
        "demo ready",
      );
      if (banner) {
        out.print(
          demoBanner({
            url,
            operatorUrl,
            scenario,
            workers: ids.length,
            logFile: logOutput().file,
            pythonProblem: "problem" in python ? python.problem : undefined,
          }),
        );
      }
    } catch (err) {
      await children.stopAll();
      throw err;
    }
    return { stop: () => children.stopAll() };
  },
};
