import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

/** How a receiver answers: 200, never, 500, or a redirect to the cloud metadata address. */
export type ReceiverMode = "ok" | "hang" | "fail" | "redirect";

/** One request a receiver got. */
export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface WebhookReceiver {
  /** http://127.0.0.1:PORT */
  url: string;
  received: Received[];
  child: ChildProcess;
  stop(): void;
}

// A separate process, so the gateway talks to a real HTTP server over a real
// socket, and a hanging receiver hangs in its own event loop, not the test's.
const SCRIPT = `
const http = require("node:http");
const mode = process.argv[1];
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    process.stdout.write(JSON.stringify({ path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() }) + "\\n");
    if (mode === "hang") return;
    if (mode === "fail") { res.writeHead(500); return res.end("no"); }
    if (mode === "redirect") { res.writeHead(307, { location: "http://169.254.169.254/latest/meta-data/" }); return res.end(); }
    res.writeHead(200); res.end("ok");
  });
});
server.listen(0, "127.0.0.1", () => process.stdout.write(JSON.stringify({ port: server.address().port }) + "\\n"));
process.on("SIGTERM", () => process.exit(0));
`;

/** Starts a receiver process on a free loopback port. */
export async function startWebhookReceiver(mode: ReceiverMode): Promise<WebhookReceiver> {
  const child = spawn(process.execPath, ["-e", SCRIPT, mode], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const received: Received[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("receiver did not start in 10 s")), 10_000);
    createInterface({ input: child.stdout }).on("line", (line) => {
      const parsed = JSON.parse(line) as { port?: number } & Received;
      if (parsed.port !== undefined) {
        clearTimeout(timer);
        resolve(parsed.port);
      } else received.push(parsed);
    });
    child.once("exit", (code) => reject(new Error(`receiver exited ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, received, child, stop: () => child.kill("SIGKILL") };
}
