// npm start: install what is missing, build, run the demo fleet. On a
// terminal the demo prints a short banner (dashboard URL, operator link, what
// the incident contains, where its log file is) and then only warnings and
// key events; piped, or with `npm start -- --log-format json`, it logs JSON
// lines. Ctrl-C (or SIGTERM) stops everything and leaves no process.
import { spawn } from "node:child_process";
import { ensureNodeModules, root, run, say } from "./lib.js";

if (!(await ensureNodeModules())) {
  say("npm dependencies could not be installed");
  process.exit(1);
}
if ((await run("npm", ["run", "-s", "build"], { timeoutMs: 10 * 60_000 })) !== 0) {
  say("build failed");
  process.exit(1);
}

const args = ["bin/stallwatch.js", "demo", ...process.argv.slice(2)];
say(`starting: stallwatch ${args.slice(1).join(" ")}`);
// The demo writes to our stdout itself, so it sees the terminal (or the pipe)
// and picks its format: its banner appears last, where it is seen.
const demo = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });

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
