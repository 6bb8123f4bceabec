import { parseArgs } from "node:util";
import { createLogger, LOG_FORMATS, type LogFormat } from "./shared/logging/logger.js";
import { UsageError } from "./shared/cli/usage-error.js";
import { ListenError } from "./shared/net/listen.js";
import type { Command, Running } from "./shared/cli/command.js";
import { SignalLatch } from "./shared/cli/signal-latch.js";
import { StopSignals } from "./shared/cli/stop-signals.js";
import { stopWhenParentGoes } from "./shared/cli/parent-lifeline.js";
import { workerCommand } from "./worker/worker-command.js";
import { EXIT_STORE, gatewayCommand } from "./gateway/gateway-command.js";
import { StoreFatalError } from "./gateway/store/store-errors.js";
import { demoCommand } from "./demo/demo-command.js";
import { engineCommand } from "./engine/engine-command.js";
import { backupCommand } from "./gateway/backup/backup-command.js";

/**
 * `stallwatch <command> [flags]`: the one entry point. This file owns process
 * concerns only: flags, signals, exit codes. Exit 0 on SIGINT/SIGTERM after a
 * clean stop, 2 on usage errors, 3 when the database cannot be opened or
 * written, 1 on any other fatal fault (so a supervisor restarts us instead of
 * leaving a half-alive process). Once the logger exists, every fatal error is
 * one JSON log line with its cause.
 */
const commands: Command[] = [
  workerCommand,
  gatewayCommand,
  engineCommand,
  demoCommand,
  backupCommand,
];

const STOP_TIMEOUT_MS = 5000;

function topHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "Usage: stallwatch <command> [flags]",
    "",
    "Live status and control for fleets of UDF workers.",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run `stallwatch <command> --help` for a command's flags. Every command also takes",
    "--log-format json|pretty (default: pretty on a terminal, JSON when piped) and",
    "--log-file PATH (every line as JSON to PATH; the terminal shows warnings and key events).",
  ].join("\n");
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(topHelp() + "\n");
    process.exitCode = name === undefined ? 2 : 0;
    return;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) throw new UsageError(`unknown command "${name}"\n\n${topHelp()}`);

  let flags;
  try {
    flags = parseArgs({
      args: rest,
      options: {
        ...command.options,
        help: { type: "boolean", short: "h" },
        "log-format": { type: "string" },
        "log-file": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${command.help}`);
  }
  if (flags.help) {
    process.stdout.write(command.help + "\n");
    return;
  }

  const format = flags["log-format"];
  if (format !== undefined && !LOG_FORMATS.includes(format as LogFormat))
    throw new UsageError(`--log-format: one of ${LOG_FORMATS.join(", ")}`);
  const log = createLogger(command.name, {
    format: format as LogFormat | undefined,
    file: typeof flags["log-file"] === "string" ? flags["log-file"] : undefined,
  });
  process.on("uncaughtException", (err) => fatal(log, err));
  process.on("unhandledRejection", (err) => fatal(log, err));
  // Caught from here on: a signal while the command starts stops it once it is up.
  const signals = new SignalLatch();
  // A demo child stops with its parent, however the parent ended.
  if (stopWhenParentGoes()) log.debug("stopping when the parent's stdin pipe closes");

  let running: Running;
  try {
    running = await command.run(flags, log);
  } catch (err) {
    if (isUsageProblem(err)) throw err;
    fatal(log, err);
  }
  awaitStop(running, log, signals);
}

function awaitStop(
  running: Running,
  log: ReturnType<typeof createLogger>,
  signals: SignalLatch,
): void {
  const verdicts = new StopSignals();
  const stop = (signal: string) => {
    const verdict = verdicts.judge();
    if (verdict === "same-request") {
      log.debug({ signal }, "signal again within a moment of the first: the same stop request");
      return;
    }
    if (verdict === "exit-now") {
      log.warn({ signal }, "second signal, exiting now");
      process.exit(1);
    }
    log.info({ signal }, "stopping");
    const timeoutMs = running.stopTimeoutMs ?? STOP_TIMEOUT_MS;
    const timer = setTimeout(() => {
      log.error({ timeoutMs }, "stop timed out, exiting");
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    running.stop().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (err: unknown) => fatal(log, err),
    );
  };
  running.done?.then(
    (code) => {
      log.info({ code }, "exited by itself");
      process.exit(code);
    },
    (err: unknown) => fatal(log, err),
  );
  signals.listen(stop);
}

function fatal(log: ReturnType<typeof createLogger>, err: unknown): never {
  if (err instanceof StoreFatalError) {
    log.fatal(
      { err: err.message, code: err.code, exitCode: EXIT_STORE },
      "database unusable, exiting",
    );
    process.exit(EXIT_STORE);
  }
  log.fatal({ err, exitCode: 1 }, "fatal error, exiting");
  process.exit(1);
}

/** Bad flags, or an address a flag names that cannot be bound: exit 2, no stack. */
function isUsageProblem(err: unknown): err is Error {
  return err instanceof UsageError || err instanceof ListenError;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (isUsageProblem(err)) {
    process.stderr.write(`stallwatch: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `stallwatch: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
