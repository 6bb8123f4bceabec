import { execFileSync } from "node:child_process";
import { chmodSync, existsSync } from "node:fs";

/**
 * Makes files unwritable even to root, so tests can see how the gateway
 * reacts to a database that stops accepting writes. Root ignores file modes,
 * so as root the files are marked immutable (`chattr +i`, ext4); otherwise
 * their mode is made read-only. Returns the undo function.
 */
export function makeUnwritable(paths: string[]): () => void {
  const present = paths.filter((p) => existsSync(p));
  if (process.getuid?.() === 0) {
    execFileSync("chattr", ["+i", ...present]);
    return () => execFileSync("chattr", ["-i", ...present.filter((p) => existsSync(p))]);
  }
  for (const p of present) chmodSync(p, 0o444);
  return () => {
    for (const p of present) if (existsSync(p)) chmodSync(p, 0o644);
  };
}
