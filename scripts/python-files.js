// The hand-written Python files (python/ minus protoc's output), for linters
// that take a file list and have no exclude option (pyflakes3).
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { root } from "./lib.js";

const skipped = new Set(["gen", "__pycache__", ".pytest_cache"]);

function walk(dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      if (skipped.has(name)) return [];
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return walk(path);
      return name.endsWith(".py") ? [path] : [];
    });
}

/** Paths relative to the repository root. */
export function pythonSources() {
  return walk(`${root}python`).map((p) => p.slice(root.length));
}
