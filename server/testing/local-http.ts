import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** A plain HTTP server on 127.0.0.1:0 in this process. */
export interface LocalHttpServer {
  /** http://127.0.0.1:PORT, no trailing slash. */
  base: string;
  close(): void;
}

/** Serves `handler` on an ephemeral loopback port. */
async function serveLocalHttp(handler: http.RequestListener): Promise<LocalHttpServer> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { base: `http://127.0.0.1:${port}`, close: () => server.close() };
}

/** A temporary folder of files, and its removal. */
interface WebRoot {
  root: string;
  remove: () => void;
}

/** A new temporary folder holding `files` (relative paths; folders are made). */
function tempWebRoot(files: Record<string, string | Uint8Array>): WebRoot {
  const root = mkdtempSync(join(tmpdir(), "web-root-"));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/**
 * Serves the handler `handlerFor` builds on a new folder of `files`;
 * close() also removes the folder.
 */
export async function serveWebRoot(
  files: Record<string, string | Uint8Array>,
  handlerFor: (root: string) => http.RequestListener,
): Promise<LocalHttpServer> {
  const web = tempWebRoot(files);
  const server = await serveLocalHttp(handlerFor(web.root));
  return {
    base: server.base,
    close: () => {
      server.close();
      web.remove();
    },
  };
}
