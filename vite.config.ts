import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants as zlib, gzipSync } from "node:zlib";
import { defineConfig, type Plugin } from "vitest/config";
import react from "@vitejs/plugin-react";

/**
 * Writes `.br` and `.gz` beside every compressible file of the build, at
 * maximum compression (done once here, never per request): the gateway's
 * static handler (sirv) serves whichever the browser accepts.
 */
function precompress(): Plugin {
  let outDir = "";
  return {
    name: "stallwatch-precompress",
    apply: "build",
    configResolved(config) {
      outDir = join(config.root, config.build.outDir);
    },
    closeBundle() {
      const walk = (dir: string): string[] =>
        readdirSync(dir).flatMap((name) => {
          const path = join(dir, name);
          return statSync(path).isDirectory() ? walk(path) : [path];
        });
      for (const file of walk(outDir)) {
        if (!/\.(js|css|html|svg|json|txt|ico)$/.test(file)) continue;
        const data = readFileSync(file);
        if (data.length < 512) continue;
        writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
        writeFileSync(
          `${file}.br`,
          brotliCompressSync(data, {
            params: {
              [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY,
              [zlib.BROTLI_PARAM_SIZE_HINT]: data.length,
            },
          }),
        );
      }
    },
  };
}

// The SPA lives in web/ and is built into dist/web, which the gateway serves.
// Vitest projects: `unit` runs beside-the-code tests (server in Node, web in
// jsdom); `integration` starts real processes on ephemeral ports.
export default defineConfig({
  root: "web",
  plugins: [react(), precompress()],
  // Module workers (the profile view's stream reader), code-split like the app.
  worker: { format: "es" },
  build: {
    outDir: "../dist/web",
    emptyOutDir: true,
    sourcemap: true,
  },
  server: {
    host: "127.0.0.1",
    proxy: {
      "/stallwatch.v1.": "http://127.0.0.1:8080",
    },
  },
  test: {
    root: ".",
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          root: ".",
          include: [
            "server/**/*.test.ts",
            "web/**/*.test.ts",
            "web/**/*.test.tsx",
            "scripts/**/*.test.js",
          ],
          exclude: ["**/*.integration.test.ts", "node_modules/**"],
          environment: "node",
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: "integration",
          root: ".",
          include: ["server/**/*.integration.test.ts"],
          environment: "node",
          globalSetup: ["server/testing/build-once.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Real processes and real timing: one file at a time keeps the
          // 2-core machine from starving heartbeats.
          fileParallelism: false,
        },
      },
    ],
  },
});
