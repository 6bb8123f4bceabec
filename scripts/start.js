// npm start: install what is missing, build, run the demo fleet, print the
// dashboard URL. Ctrl-C (or SIGTERM) stops everything and leaves no process.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
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
const demo = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });

// The demo logs JSON lines; show the URL prominently once it is up.
createInterface({ input: demo.stdout }).on("line", (line) => {
  process.stdout.write(line + "\n");
  try {
    const entry = JSON.parse(line);
    if (entry.msg === "demo ready" && entry.url) {
      process.stdout.write(`\n  Stallwatch dashboard: ${entry.url}\n`);
      if (entry.operatorUrl)
        process.stdout.write(`  As operator (actions enabled): ${entry.operatorUrl}\n`);
      process.stdout.write("  Ctrl-C stops the demo.\n\n");
    }
  } catch {
    // not a log line of ours
  }
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
