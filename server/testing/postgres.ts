import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/**
 * A throw-away PostgreSQL server from Debian's `postgresql` package, for
 * tests and benches: `initdb` into a temporary directory and `postgres` on
 * an ephemeral loopback port, as an unprivileged user (PostgreSQL refuses to
 * run as root; under root it runs as `nobody`). Nothing is fsynced: the data
 * dies with the test.
 */
export interface PostgresServer {
  /** A URL for `database` (created by createDatabase, or `postgres`). */
  url(database?: string): string;
  /** Creates a fresh, empty database and returns its URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

const USER = "stallwatch";
let databases = 0;

/** The newest `/usr/lib/postgresql/<version>/bin` that holds `postgres`. */
export function postgresBinDir(): string | undefined {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, "bin", "postgres")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], "bin") : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Starts a PostgreSQL server; fails with a clear message when it is not installed. */
export async function startPostgres({ timeoutMs = 30_000 } = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) {
    throw new Error(
      "PostgreSQL is not installed (/usr/lib/postgresql/*/bin/postgres); `npm test` installs Debian's postgresql package, or run `apt-get install postgresql`",
    );
  }
  const asRoot = process.getuid?.() === 0;
  // Under root, run as nobody: initdb and postgres refuse root.
  const ids = asRoot ? { uid: 65534, gid: 65534 } : {};
  const dir = mkdtempSync(join(tmpdir(), "stallwatch-pg-"));
  if (asRoot) chownSync(dir, 65534, 65534);
  const data = join(dir, "data");
  execFileSync(
    join(bin, "initdb"),
    ["-D", data, "-U", USER, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"],
    { ...ids, stdio: "pipe", timeout: timeoutMs, cwd: dir },
  );
  let child: ChildProcess | undefined;
  let port = 0;
  let lastError = "";
  // The port is free when picked, not necessarily when postgres binds it: retry.
  for (let attempt = 0; attempt < 3 && !child; attempt++) {
    port = await freePort();
    const proc = spawn(
      join(bin, "postgres"),
      [
        "-D",
        data,
        "-p",
        String(port),
        "-k",
        dir,
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "max_connections=200",
      ],
      { ...ids, stdio: ["ignore", "ignore", "pipe"], cwd: dir },
    );
    let stderr = "";
    proc.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const ready = await waitReady(port, proc, timeoutMs);
    if (ready) child = proc;
    else {
      lastError = stderr;
      proc.kill("SIGKILL");
    }
  }
  if (!child) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`postgres did not start: ${lastError.trim().slice(-1000)}`);
  }
  const running = child;
  const url = (database = "postgres") => `postgres://${USER}@127.0.0.1:${port}/${database}`;
  return {
    url,
    async createDatabase() {
      const name = `t${process.pid}_${++databases}_${Date.now().toString(36)}`;
      const client = new pg.Client({ connectionString: url(), connectionTimeoutMillis: 5000 });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    async stop() {
      if (running.exitCode === null && running.signalCode === null) {
        const gone = new Promise((r) => running.once("exit", r));
        running.kill("SIGINT"); // "fast" shutdown
        const timer = setTimeout(() => running.kill("SIGKILL"), 5000);
        await gone;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitReady(port: number, proc: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) return false;
    const client = new pg.Client({
      connectionString: `postgres://${USER}@127.0.0.1:${port}/postgres`,
      connectionTimeoutMillis: 1000,
    });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.end();
      return true;
    } catch {
      await client.end().catch(() => {});
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return false;
}
