import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The SPA lives in web/ and is built into dist/web, which the gateway serves.
// Vitest projects: `unit` runs beside-the-code tests (server in Node, web in
// jsdom); `integration` starts real processes on ephemeral ports.
export default defineConfig({
  root: "web",
  plugins: [react()],
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
          include: ["server/**/*.test.ts", "web/**/*.test.ts", "web/**/*.test.tsx"],
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
