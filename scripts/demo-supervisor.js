// The part of `npm start` that runs after the build: the demo as a child,
// stopped with the signal we got. Its own file so a test can run exactly
// this, in a process group of its own, as a terminal runs `npm start`
// (server/demo/demo-ctrl-c.integration.test.ts).
import { spawn } from "node:child_process";
import { root, say } from "./lib.js";

/**
 * Runs `stallwatch demo <args>` and exits with it. A terminal's Ctrl-C
 * reaches the demo directly (it is in our process group) and reaches us,
 * and we forward it, because we may be the only one signalled (`kill` on
 * our pid, a supervisor): the demo counts both as one request (main.ts).
 */
export function superviseDemo(demoArgs) {
  const args = ["bin/stallwatch.js", "demo", ...demoArgs];
  say(`starting: stallwatch ${args.slice(1).join(" ")}`);
  // The demo writes to our stdout itself, so it sees the terminal (or the pipe)
  // and picks its format: its banner appears last, where it is seen.
  const demo = spawn(process.execPath, args, {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
  });

  let stopping = false;
  const stop = (signal) => {
    if (stopping) return;
    stopping = true;
    demo.kill(signal);
    // The demo stops its children within 5 s; never wait forever.
    setTimeout(() => demo.kill("SIGKILL"), 10_000).unref();
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  demo.on("exit", (code, signal) => process.exit(stopping ? 0 : (code ?? (signal ? 1 : 0))));
}
