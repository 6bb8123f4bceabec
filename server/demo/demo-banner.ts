/** Where `stallwatch demo` on a terminal writes its full log unless told otherwise. */
export const DEFAULT_DEMO_LOG = ".stallwatch/demo.log";

/** What each worker of the incident scenario shows (the demo's --help says the same). */
const INCIDENT: [string, string][] = [
  ["demo-1", "a session hung in user code: stalled, its thread not moving; cancel escalates"],
  ["demo-2", "a slow worker (4 s per batch)"],
  ["demo-3", "a session spinning a CPU: cancel is cooperative"],
  ["demo-4", "killed every 90 s, restarted 8 s later: gone, then healthy"],
  ["demo-5", "a Beam SDK harness look-alike (Python text) with its own hung bundle"],
  ["demo-beam-java", "the same in Java's text"],
  ["demo-beam-go", "the same in Go's text (no bundles: only its goroutine is not moving)"],
  ["others", "healthy under load"],
];

/** The Python worker's line: what it shows, or why this demo runs without it. */
function pythonLine(problem: string | undefined): string {
  const what = problem
    ? `not started: ${problem}`
    : "the Python reference worker (grpcio): a session hung in a socket read (recv_into)";
  return `    ${"demo-py".padEnd(16)}${what}`;
}

/**
 * The few lines a person at the terminal needs: where the dashboard is, how
 * to act, what to look for, where the logs are. Bold only on a terminal.
 */
export function demoBanner(opts: {
  url: string;
  operatorUrl: string;
  scenario: string;
  workers: number;
  logFile: string | undefined;
  /** Why the Python worker is missing; undefined when it runs. */
  pythonProblem?: string | undefined;
}): string {
  const bold = (t: string) => `\x1b[1m${t}\x1b[0m`;
  const lines = [
    "",
    `  ${bold("Stallwatch demo")}: ${opts.workers} workers, scenario "${opts.scenario}"`,
    "",
    `  Dashboard     ${bold(opts.url)}`,
    `  As operator   ${opts.operatorUrl}`,
    "                (actions enabled; the token moves to the tab's session storage)",
    "",
    ...(opts.scenario === "incident"
      ? [
          "  The incident (visible within a minute):",
          ...INCIDENT.map(([id, what]) => `    ${id.padEnd(16)}${what}`),
          pythonLine(opts.pythonProblem),
        ]
      : [
          "  Load only: every worker healthy.",
          ...(opts.pythonProblem ? [pythonLine(opts.pythonProblem)] : []),
        ]),
    "",
    opts.logFile
      ? `  Logs          ${opts.logFile} (JSON); warnings and key events below`
      : "  Logs          below",
    "  Ctrl-C stops the demo and every process it started.",
    "",
    "",
  ];
  return lines.join("\n");
}
