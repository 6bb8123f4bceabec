import { createReadStream, existsSync, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, normalize, sep } from "node:path";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".map": "application/json",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * Serves the built SPA from `root`. Page navigations to unknown paths get
 * `index.html`, so client-side routes (`/workers/w1`) load as deep links.
 * Hashed assets are cached for a year; `index.html` never.
 */
export function createStaticHandler(root: string) {
  const index = join(root, "index.html");
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (!existsSync(index)) {
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
    const candidate = normalize(join(root, pathname));
    // Never serve outside the build directory.
    const inside =
      candidate === root || candidate.startsWith(root.endsWith(sep) ? root : root + sep);
    let file = index;
    if (inside && existsSync(candidate) && statSync(candidate).isFile()) file = candidate;
    else if (extname(pathname) !== "" && !(req.headers.accept ?? "").includes("text/html")) {
      // A missing asset is a 404; a page navigation (Accept: text/html) gets the
      // app, whatever the path looks like (worker ids contain dots and colons).
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
      return;
    }
    const isIndex = file === index;
    res.writeHead(200, {
      "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
      "cache-control": isIndex ? "no-cache" : "public, max-age=31536000, immutable",
      "x-content-type-options": "nosniff",
      ...(isIndex
        ? {
            "content-security-policy":
              "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
          }
        : {}),
    });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    createReadStream(file).pipe(res);
  };
}
