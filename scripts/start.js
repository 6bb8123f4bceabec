// npm start: install what is missing, build, run the demo fleet. On a
// terminal the demo prints a short banner (dashboard URL, operator link, what
// the incident contains, where its log file is) and then only warnings and
// key events; piped, or with `npm start -- --log-format json`, it logs JSON
// lines. Ctrl-C (or SIGTERM) stops everything and leaves no process.
import { superviseDemo } from "./demo-supervisor.js";
import { ensureNodeModules, run, say } from "./lib.js";

if (!(await ensureNodeModules())) {
  say("npm dependencies could not be installed");
  process.exit(1);
}
if ((await run("npm", ["run", "-s", "build"], { timeoutMs: 10 * 60_000 })) !== 0) {
  say("build failed");
  process.exit(1);
}

superviseDemo(process.argv.slice(2));
