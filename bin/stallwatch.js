#!/usr/bin/env node
// The published entry point runs the compiled CLI (`npm run build:server`).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../dist/server/main.js", import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write("stallwatch: not built yet; run `npm run build` first\n");
  process.exit(1);
}
await import(cli);
