// What the Chromium benches share: the SPA from dist/web behind a synthetic
// Connect API (bench only: a real gateway cannot be given 10,000 workers on a
// 2-core machine), and Debian's Chromium.
import http from "node:http";
import { fileURLToPath } from "node:url";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { chromium, type Browser } from "@playwright/test";
import { createStaticHandler } from "../server/gateway/http/static-files.js";

const webRoot = fileURLToPath(new URL("../web/", import.meta.url));
const serveStatic = createStaticHandler(webRoot);

/** An API + SPA server on a free loopback port, with the gateway's static handler. */
export async function startUiServer(
  routes: (router: ConnectRouter) => void,
): Promise<{ base: string; server: http.Server }> {
  const api = connectNodeAdapter({
    routes,
    // Mounted on an HTTP/1.1 server only.
    fallback: (req, res) => serveStatic(req as http.IncomingMessage, res as http.ServerResponse),
  });
  const server = http.createServer(api);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  return {
    server,
    base: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`,
  };
}

/** Debian's Chromium, headless, without the background traffic that would blur the figures. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** The middle value (the upper one of an even count). */
export function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
}
