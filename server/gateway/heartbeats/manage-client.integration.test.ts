import http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import {
  ShutdownRequestSchema,
  WorkerResponseSchema,
} from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { parseHostPort } from "../../shared/net/host-port.js";
import { startGrpcJsManage, type ManageHandler } from "../../testing/grpc-js-manage.js";
import { startTestWorker, type TestWorker } from "../../testing/test-worker.js";
import {
  startBlackhole,
  startHttp1Server,
  unusedPort,
  type Peer,
} from "../../testing/misbehaving-peers.js";
import { ManageClient } from "./manage-client.js";

// Interoperability of our raw-HTTP/2 Manage client with servers it did not
// write: grpc-js (plain, gzip-compressing, failing, hanging, without Manage),
// a node:http2 server sending what grpc-js never does (status in trailers after
// headers, gzip without being asked twice), and the project's own worker.

const heartbeatAnswer = (metrics: Record<string, string>) =>
  create(WorkerResponseSchema, { manage: { case: "heartbeat", value: { metrics } } });

async function grpcServer(handler: ManageHandler | undefined, options: grpc.ServerOptions = {}) {
  const { address, stop } = await startGrpcJsManage(handler, options);
  servers.push(stop);
  return new ManageClient(parseHostPort(address));
}

/** A node:http2 server answering every call with `answer`. */
async function h2Server(answer: (stream: http2.ServerHttp2Stream) => void) {
  const server = http2.createServer();
  server.on("stream", (stream) => {
    stream.on("error", () => undefined); // a reset stream is what one case is about
    stream.on("data", () => undefined);
    stream.on("end", () => answer(stream));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(() => server.close());
  const { port } = server.address() as { port: number };
  return new ManageClient(parseHostPort(`127.0.0.1:${port}`));
}

function frame(message: Uint8Array, compressed = false): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out[0] = compressed ? 1 : 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

const servers: Array<() => void> = [];
const clients: ManageClient[] = [];
const track = (c: ManageClient) => (clients.push(c), c);
let worker: TestWorker;
let blackhole: Peer;
let http1: Peer;

beforeAll(async () => {
  [worker, blackhole, http1] = await Promise.all([
    startTestWorker({ id: "interop-1" }),
    startBlackhole(),
    startHttp1Server(),
  ]);
});

afterAll(async () => {
  for (const c of clients) c.close();
  for (const stop of servers) stop();
  await Promise.all([worker.stop(), blackhole.close(), http1.close()]);
});

describe("ManageClient against grpc-js", () => {
  it("reads heartbeat metrics, many calls on one connection (HPACK dynamic table)", async () => {
    const client = track(
      await grpcServer((_call, cb) => cb(null, heartbeatAnswer({ active_sessions: "2" }))),
    );
    const first = await client.heartbeat(1000);
    expect(first).toMatchObject({
      ok: true,
      value: { active_sessions: "2" },
      firstOnConnection: true,
    });
    for (let i = 0; i < 50; i++) {
      const r = await client.heartbeat(1000);
      expect(r).toMatchObject({
        ok: true,
        value: { active_sessions: "2" },
        firstOnConnection: false,
      });
    }
  });

  it("decodes gzip-compressed replies", async () => {
    const big = "x".repeat(4000); // worth compressing
    const client = track(
      await grpcServer((_call, cb) => cb(null, heartbeatAnswer({ note: big })), {
        "grpc.default_compression_algorithm": grpc.compressionAlgorithms.gzip,
        "grpc.default_compression_level": 2,
      }),
    );
    for (let i = 0; i < 3; i++) {
      const r = await client.heartbeat(1000);
      expect(r.ok && r.value.note).toBe(big);
    }
  });

  it("classifies an error status (trailers-only) as a status failure, with its message", async () => {
    const client = track(
      await grpcServer((_call, cb) =>
        cb({ code: grpc.status.RESOURCE_EXHAUSTED, details: "too busy: 100% ☹" }),
      ),
    );
    const r = await client.heartbeat(1000);
    expect(r).toMatchObject({
      ok: false,
      kind: "status",
      reason: "gRPC status 8: too busy: 100% ☹",
    });
  });

  it("calls a server without Manage a protocol failure (UNIMPLEMENTED)", async () => {
    const client = track(await grpcServer(undefined));
    const r = await client.heartbeat(1000);
    expect(r).toMatchObject({ ok: false, kind: "protocol" });
    expect(!r.ok && r.reason).toMatch(/not a UdfWorker \(gRPC status 12/);
  });

  it("misses a beat when the server never answers, and recovers on the same server", async () => {
    let hang = true;
    const client = track(
      await grpcServer((_call, cb) => {
        if (!hang) cb(null, heartbeatAnswer({}));
      }),
    );
    const r = await client.heartbeat(300);
    // grpc-js enforces our grpc-timeout too: whichever comes first, it is a miss.
    expect(r.ok).toBe(false);
    expect(!r.ok && ["timeout", "status"]).toContain(!r.ok && r.kind);
    hang = false;
    expect((await client.heartbeat(1000)).ok).toBe(true);
  });

  it("sends shutdowns", async () => {
    const client = track(
      await grpcServer((call, cb) =>
        cb(
          null,
          create(WorkerResponseSchema, {
            manage: {
              case: "shutdown",
              value: { sessionsSettled: call.request.manage.case === "shutdown" },
            },
          }),
        ),
      ),
    );
    const r = await client.shutdown(create(ShutdownRequestSchema, { reason: "test" }), 1000);
    expect(r).toMatchObject({ ok: true, value: true });
  });
});

describe("ManageClient against replies grpc-js does not send", () => {
  const body = toBinary(WorkerResponseSchema, heartbeatAnswer({ uptime_ms: "7" }));

  it("reads a grpc-status in trailers after headers and data", async () => {
    const client = track(
      await h2Server((stream) => {
        stream.respond(
          { ":status": 200, "content-type": "application/grpc" },
          { waitForTrailers: true },
        );
        stream.on("wantTrailers", () =>
          stream.sendTrailers({ "grpc-status": "14", "grpc-message": "going%20away" }),
        );
        stream.end();
      }),
    );
    expect(await client.heartbeat(1000)).toMatchObject({
      ok: false,
      kind: "status",
      reason: "gRPC status 14: going away",
    });
  });

  it("decodes gzip, and refuses a compressed message without a known encoding", async () => {
    let encoding = "gzip";
    const client = track(
      await h2Server((stream) => {
        stream.respond(
          { ":status": 200, "content-type": "application/grpc", "grpc-encoding": encoding },
          { waitForTrailers: true },
        );
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
        stream.end(frame(gzipSync(body), true));
      }),
    );
    expect(await client.heartbeat(1000)).toMatchObject({ ok: true, value: { uptime_ms: "7" } });
    encoding = "snappy";
    expect(await client.heartbeat(1000)).toMatchObject({ ok: false, kind: "protocol" });
  });

  it("calls an HTTP error or a non-gRPC content type a protocol failure", async () => {
    const client = track(
      await h2Server((stream) => {
        stream.respond({ ":status": 404, "content-type": "text/html" });
        stream.end("<h1>no</h1>");
      }),
    );
    const r = await client.heartbeat(1000);
    expect(r).toMatchObject({ ok: false, kind: "protocol" });
    expect(!r.ok && r.reason).toMatch(/not a gRPC server \(HTTP 404/);
  });

  it("fails a stream the server resets as a connection failure", async () => {
    const client = track(
      await h2Server((stream) => stream.close(http2.constants.NGHTTP2_REFUSED_STREAM)),
    );
    expect(await client.heartbeat(1000)).toMatchObject({ ok: false, kind: "connection" });
  });
});

describe("ManageClient against the project's worker and misbehaving peers", () => {
  it("reads the real worker's heartbeat metrics, call after call", async () => {
    const client = track(new ManageClient(parseHostPort(worker.address)));
    for (let i = 0; i < 20; i++) {
      const r = await client.heartbeat(1000);
      expect(r.ok).toBe(true);
      if (r.ok) expect(Object.keys(r.value).length).toBeGreaterThan(0);
    }
  });

  it("says connection refused", async () => {
    const client = track(new ManageClient(parseHostPort(await unusedPort())));
    expect(await client.heartbeat(1000)).toMatchObject({
      ok: false,
      kind: "connection",
      reason: "connection refused",
    });
  });

  it("calls an HTTP/1.1 server a protocol error", async () => {
    const client = track(new ManageClient(parseHostPort(http1.address)));
    const r = await client.heartbeat(1000);
    expect(r).toMatchObject({ ok: false, kind: "protocol" });
    expect(!r.ok && r.reason).toMatch(/^protocol error/);
  });

  it("times out on a peer that accepts TCP and never answers", async () => {
    const client = track(new ManageClient(parseHostPort(blackhole.address)));
    expect(await client.heartbeat(200)).toMatchObject({
      ok: false,
      kind: "timeout",
      reason: "no answer within 200 ms",
    });
  });
});
