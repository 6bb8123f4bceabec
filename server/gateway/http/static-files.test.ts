import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliCompressSync, brotliDecompressSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStaticHandler } from "./static-files.js";
import { formatHostPort } from "../../shared/net/host-port.js";
import { closeServer, listen } from "../../shared/net/listen.js";

const js = "console.log('stallwatch');\n".repeat(200);
let root: string;
let server: http.Server;
let base: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "static-"));
  mkdirSync(join(root, "assets"));
  writeFileSync(join(root, "index.html"), "<!doctype html><title>Stallwatch</title>");
  writeFileSync(join(root, "assets", "index-AbC123.js"), js);
  writeFileSync(join(root, "assets", "index-AbC123.js.br"), brotliCompressSync(js));
  writeFileSync(join(root, "assets", "index-AbC123.js.gz"), gzipSync(js));
  writeFileSync(join(root, "favicon.ico"), Buffer.from([0, 0, 1, 0]));
  server = http.createServer(createStaticHandler(root));
  base = `http://${formatHostPort(await listen(server, { host: "127.0.0.1", port: 0 }, "http"))}`;
});
afterAll(async () => {
  await closeServer(server);
  rmSync(root, { recursive: true, force: true });
});

/** A raw GET (fetch would decompress and hide the encoding). */
function get(path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>(
    (resolve, reject) => {
      http
        .get(`${base}${path}`, { headers, timeout: 5000 }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks),
            }),
          );
        })
        .on("error", reject);
    },
  );
}

describe("createStaticHandler (sirv)", () => {
  it("serves hashed assets precompressed, immutable, with an ETag that revalidates", async () => {
    const br = await get("/assets/index-AbC123.js", { "accept-encoding": "gzip, deflate, br" });
    expect(br.status).toBe(200);
    expect(br.headers["content-encoding"]).toBe("br");
    expect(br.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(br.headers.vary).toBe("Accept-Encoding");
    expect(brotliDecompressSync(br.body).toString()).toBe(js);
    const gz = await get("/assets/index-AbC123.js", { "accept-encoding": "gzip" });
    expect(gz.headers["content-encoding"]).toBe("gzip");
    const plain = await get("/assets/index-AbC123.js");
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body.toString()).toBe(js);
    const etag = String(br.headers.etag);
    expect(etag).toMatch(/^W\/"/);
    const again = await get("/assets/index-AbC123.js", {
      "accept-encoding": "br",
      "if-none-match": etag,
    });
    expect(again.status).toBe(304);
  });

  it("gives page navigations the app (ids with dots too), revalidated, with a CSP", async () => {
    for (const path of ["/", "/workers/10.0.0.1:7070", "/stalled"]) {
      const page = await get(path, { accept: "text/html" });
      expect(page.status).toBe(200);
      expect(page.body.toString()).toContain("<title>Stallwatch</title>");
      expect(page.headers["cache-control"]).toBe("no-cache");
      expect(page.headers["content-security-policy"]).toContain("default-src 'self'");
    }
  });

  it("has a favicon, and says 404 for a missing asset", async () => {
    expect((await get("/favicon.ico", { accept: "image/*" })).status).toBe(200);
    expect((await get("/assets/gone-123.js", { accept: "*/*" })).status).toBe(404);
    expect((await get("/assets/gone-123.js", { accept: "text/html" })).status).toBe(404);
    // Never outside the build: a path that climbs out is just another navigation.
    const climb = await get("/%2e%2e/%2e%2e/etc/passwd", { accept: "*/*" });
    expect(climb.body.toString()).not.toContain("root:");
  });
});
