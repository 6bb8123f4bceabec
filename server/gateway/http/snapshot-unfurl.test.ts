import { create } from "@bufbuild/protobuf";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Liveness } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { SnapshotSchema, type Snapshot } from "../../../gen/stallwatch/v1/snapshot_pb.js";
import { createSnapshotUnfurl } from "./snapshot-unfurl.js";
import { formatHostPort } from "../../shared/net/host-port.js";
import { closeServer, listen } from "../../shared/net/listen.js";

const ID = "AbCdEfGhIjKlMnOpQrStUv";
const snapshot = create(SnapshotSchema, {
  info: {
    id: ID,
    createdAtMs: BigInt(Date.UTC(2026, 11, 1, 13, 20, 48)),
    createdBy: "operator (token)",
    workerCount: 2,
    note: 'INC-7 <script>alert("x")</script>',
  },
  workers: [
    { id: "demo-1", liveness: Liveness.HEALTHY, stalledSessions: 1 },
    { id: "demo-2", liveness: Liveness.UNRESPONSIVE },
  ],
});

let root: string;
let server: http.Server;
let base: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "unfurl-"));
  writeFileSync(
    join(root, "index.html"),
    "<html><head><title>Stallwatch</title></head><body></body></html>",
  );
  const unfurl = createSnapshotUnfurl({
    store: {
      getSnapshot: (id) => Promise.resolve<Snapshot | undefined>(id === ID ? snapshot : undefined),
    },
    webRoot: root,
    log: pino({ level: "silent" }),
  });
  server = http.createServer((req, res) => {
    if (!unfurl(req, res)) res.writeHead(418).end();
  });
  base = `http://${formatHostPort(await listen(server, { host: "127.0.0.1", port: 0 }, "http"))}`;
});
afterAll(async () => {
  await closeServer(server);
  rmSync(root, { recursive: true, force: true });
});

const meta = (html: string, key: string) =>
  new RegExp(`<meta (?:property|name)="${key}" content="([^"]*)"`).exec(html)?.[1];

describe("snapshot unfurl page", () => {
  it("renders Open Graph and Twitter-card meta for a plain GET, escaped, no secrets", async () => {
    const res = await fetch(`${base}/snapshots/${ID}`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await res.text();
    expect(meta(html, "og:title")).toBe(
      "Stallwatch snapshot: 1 session stalled, 1 worker unresponsive",
    );
    expect(meta(html, "twitter:card")).toBe("summary");
    expect(meta(html, "og:description")).toContain(
      "Taken 2026-12-01 13:20:48 UTC by operator (token) of the fleet (2 workers)",
    );
    expect(meta(html, "twitter:description")).toBe(meta(html, "og:description"));
    expect(html).toContain("<title>Stallwatch snapshot: 1 session stalled");
    expect(html).not.toContain("<script>alert");
    expect(html).toContain("&lt;script&gt;");
    expect(html).not.toMatch(/token=|bearer/i);
  });

  it("serves a worker page of the snapshot the same way, and marks an unknown id", async () => {
    const worker = await (await fetch(`${base}/snapshots/${ID}/workers/demo-1`)).text();
    expect(meta(worker, "og:title")).toContain("Stallwatch snapshot");
    const missing = await (await fetch(`${base}/snapshots/AAAAAAAAAAAAAAAAAAAAAA`)).text();
    expect(meta(missing, "og:title")).toBe("Stallwatch: snapshot not found");
    expect(meta(missing, "stallwatch:snapshot-missing")).toBe("AAAAAAAAAAAAAAAAAAAAAA");
  });

  it("leaves other paths alone", async () => {
    expect((await fetch(`${base}/snapshots`)).status).toBe(418);
    expect((await fetch(`${base}/workers/demo-1`)).status).toBe(418);
  });
});
