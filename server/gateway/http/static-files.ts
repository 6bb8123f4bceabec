import { existsSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join } from "node:path";
import sirv, { type RequestHandler } from "sirv";

/** What the SPA's HTML may load: itself only (styles inline for React's style props). */
const INDEX_CSP =
  "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'";

/** Vite's content-hashed output: a name never changes meaning, so it is cached for good. */
const HASHED = /^\/assets\//;

/** Headers every HTML page of the dashboard gets. */
export function htmlHeaders(): Record<string, string> {
  return {
    "cache-control": "no-cache",
    "content-security-policy": INDEX_CSP,
    "x-content-type-options": "nosniff",
  };
}

/**
 * Serves the built SPA from `root` with sirv: the `.br` / `.gz` written at
 * build time when the browser accepts them (never compressed per request),
 * an `ETag` on everything (`If-None-Match` → 304), hashed assets
 * `immutable` for a year, everything else revalidated (`no-cache`).
 *
 * Page navigations to unknown paths get `index.html`, so client-side routes
 * (`/workers/w1`, whose ids may contain dots) load as deep links; a missing
 * asset is a 404. sirv indexes the directory once, on the first request
 * after the build exists: a rebuild needs a gateway restart.
 */
export function createStaticHandler(root: string) {
  let serve: RequestHandler | undefined;
  const handler = () =>
    (serve ??= sirv(root, {
      etag: true,
      brotli: true,
      gzip: true,
      dotfiles: false,
      // Navigation fallback is ours (below): sirv's would skip paths with dots.
      single: false,
      setHeaders(res, pathname) {
        res.setHeader("x-content-type-options", "nosniff");
        if (HASHED.test(pathname)) {
          res.setHeader("cache-control", "public, max-age=31536000, immutable");
        } else if (pathname === "/" || pathname.endsWith(".html")) {
          for (const [k, v] of Object.entries(htmlHeaders())) res.setHeader(k, v);
        } else {
          res.setHeader("cache-control", "no-cache");
        }
      },
    }));

  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (!existsSync(join(root, "index.html"))) {
      res
        .writeHead(503, { "content-type": "text/plain; charset=utf-8" })
        .end("The dashboard is not built yet: run `npm run build`.\n");
      return;
    }
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const serveStatic = handler();
    serveStatic(req, res, () => {
      const navigation =
        extname(pathname) === "" || (req.headers.accept ?? "").includes("text/html");
      if (!navigation || pathname.startsWith("/assets/")) {
        res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
        return;
      }
      // The app, whatever the path looks like; its router says "not found" itself.
      req.url = "/index.html";
      serveStatic(req, res, () => {
        res.writeHead(404).end();
      });
    });
  };
}
