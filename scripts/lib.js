// Shared helpers for the npm scripts: run a command with a timeout, say what
// is happening, never hang. Plain ESM on Node built-ins so it runs before
// `npm ci` has installed anything.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";

export const root = new URL("..", import.meta.url).pathname;

export function say(message) {
  process.stdout.write(`[stallwatch] ${message}\n`);
}

/**
 * Runs a command with inherited stdio; resolves with its exit code (or 1 on
 * a spawn error or timeout). Children are killed on timeout.
 */
export function run(command, args, { timeoutMs = 30 * 60_000, env = {} } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, ...env },
    });
    const timer = setTimeout(() => {
      say(
        `${command} ${args.join(" ")} timed out after ${Math.round(timeoutMs / 1000)} s; killing it`,
      );
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 5000).unref();
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      say(`could not start ${command}: ${err.message}`);
      resolve(1);
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

function mtime(path) {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

/** `npm ci` when node_modules is missing or older than the lock file. */
export async function ensureNodeModules() {
  const installed = `${root}node_modules/.package-lock.json`;
  if (existsSync(installed) && mtime(installed) >= mtime(`${root}package-lock.json`)) {
    if (nativeModulesLoad()) return true;
  } else {
    say("installing npm dependencies (npm ci)");
    if ((await run("npm", ["ci", "--no-audit", "--no-fund"], { timeoutMs: 20 * 60_000 })) !== 0)
      return false;
  }
  if (!nativeModulesLoad()) {
    // better-sqlite3 builds from source here (no prebuilt downloads reachable).
    say("building better-sqlite3 from source");
    if ((await run("npm", ["rebuild", "better-sqlite3"], { timeoutMs: 20 * 60_000 })) !== 0)
      return false;
  }
  return nativeModulesLoad();
}

function nativeModulesLoad() {
  const probe = spawnSync(
    process.execPath,
    ["-e", "require('better-sqlite3')(':memory:').close()"],
    {
      cwd: root,
      stdio: "ignore",
      timeout: 30_000,
    },
  );
  return probe.status === 0;
}

/** Installs Debian packages that are missing (as root, or through sudo when present). */
/** The newest installed PostgreSQL server binary (Debian keeps one per major version). */
export function postgresBinary() {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return undefined;
  const found = readdirSync(base)
    .filter((v) => existsSync(`${base}/${v}/bin/postgres`))
    .sort((a, b) => Number(b) - Number(a))[0];
  return found ? `${base}/${found}/bin/postgres` : undefined;
}

export async function ensureDebianPackages(packages, { required }) {
  const missing = packages.filter((p) => !existsSync(p.binary));
  if (missing.length === 0) return true;
  const names = missing.map((p) => p.name);
  say(`installing Debian packages: ${names.join(", ")}`);
  const asRoot = process.getuid?.() === 0;
  const prefix = asRoot ? [] : ["sudo", "-n"];
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const exec = (args) =>
    run(prefix[0] ?? args[0], prefix.length ? [...prefix.slice(1), ...args] : args.slice(1), {
      env,
      timeoutMs: 15 * 60_000,
    });
  await exec(["apt-get", "update", "-qq"]);
  await exec(["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...names]);
  const stillMissing = missing.filter((p) => !existsSync(p.binary));
  if (stillMissing.length > 0) {
    say(
      `could not install: ${stillMissing.map((p) => p.name).join(", ")}${required ? "" : " (optional, continuing)"}`,
    );
    return !required;
  }
  return true;
}
