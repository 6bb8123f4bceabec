import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { create, toBinary } from "@bufbuild/protobuf";
import { WorkerResponseSchema } from "../../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { grpcMessage, h2Frame, hpackLiteral } from "../../../testing/h2-frames.js";
import { ManageClient } from "../manage-client.js";

// The frame layer against hostile or unusual peers, scripted byte by byte
// over a real loopback socket: what a worker sends is untrusted.

const frame = h2Frame;
const body = toBinary(
  WorkerResponseSchema,
  create(WorkerResponseSchema, { manage: { case: "heartbeat", value: { metrics: { up: "1" } } } }),
);
const message = grpcMessage(body);
const SETTINGS = frame(4, 0, 0, new Uint8Array(0));
const responseHeaders = Buffer.concat([
  Buffer.from([0x88]),
  hpackLiteral("content-type", "application/grpc"),
]);
const trailers = hpackLiteral("grpc-status", "0");

/** A peer that sends SETTINGS, then `answer(streamId)` once the request has ended. */
async function scripted(
  answer: (id: number, socket: net.Socket) => Buffer | undefined,
  opening = SETTINGS,
) {
  const server = net.createServer((socket) => {
    socket.on("error", () => undefined);
    socket.write(opening);
    let seen = Buffer.alloc(24);
    socket.on("data", (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      // The request's DATA frame carries END_STREAM; its stream id is what we answer.
      for (let at = 48; at + 9 <= seen.length;) {
        const length = seen.readUIntBE(at, 3);
        if (seen[at + 3] === 0 && (seen[at + 4] ?? 0) & 1) {
          const out = answer(seen.readUInt32BE(at + 5), socket);
          if (out) socket.write(out);
        }
        at += 9 + length;
      }
      seen = Buffer.alloc(48); // frames already answered are dropped
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(() => server.close());
  const { port } = server.address() as net.AddressInfo;
  const client = new ManageClient({ host: "127.0.0.1", port });
  cleanups.push(() => client.close());
  return client;
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe("H2Connection against scripted peers", () => {
  it("reassembles an answer that arrives one byte at a time", async () => {
    const client = await scripted((id, socket) => {
      const all = Buffer.concat([
        frame(1, 4, id, responseHeaders),
        frame(0, 0, id, message),
        frame(1, 5, id, trailers),
      ]);
      let i = 0;
      const drip = setInterval(() => {
        if (i >= all.length) {
          clearInterval(drip);
          return;
        }
        socket.write(all.subarray(i, ++i));
      }, 0);
      return undefined;
    });
    expect(await client.heartbeat(3000)).toMatchObject({ ok: true, value: { up: "1" } });
  });

  it("reads headers split over CONTINUATION, padded DATA and a priority block", async () => {
    const client = await scripted((id) => {
      const padded = Buffer.concat([Buffer.from([3]), message, Buffer.alloc(3)]);
      const withPriority = Buffer.concat([Buffer.alloc(5), responseHeaders.subarray(0, 2)]);
      return Buffer.concat([
        frame(1, 0x20, id, withPriority),
        frame(9, 4, id, responseHeaders.subarray(2)),
        frame(0, 0x8, id, padded),
        frame(1, 5, id, trailers),
      ]);
    });
    expect(await client.heartbeat(1000)).toMatchObject({ ok: true, value: { up: "1" } });
  });

  it("answers PING and still gets its answer", async () => {
    const client = await scripted((id) =>
      Buffer.concat([
        frame(6, 0, 0, Buffer.alloc(8, 7)),
        frame(1, 4, id, responseHeaders),
        frame(0, 0, id, message),
        frame(1, 5, id, trailers),
      ]),
    );
    expect((await client.heartbeat(1000)).ok).toBe(true);
  });

  it.each([
    [
      "a frame over the size limit",
      (id: number) => frame(0, 0, id, Buffer.alloc(20_000)),
      /over our limit/,
    ],
    ["server push", (id: number) => frame(5, 4, id, Buffer.alloc(4)), /PUSH_PROMISE/],
    ["a bad HPACK index", (id: number) => frame(1, 5, id, Buffer.from([0xfe])), /no entry/],
    [
      "CONTINUATION missing",
      (id: number) => Buffer.concat([frame(1, 0, id, responseHeaders), frame(0, 0, id, message)]),
      /CONTINUATION/,
    ],
  ])("fails the connection as a protocol error on %s", async (_what, answer, reason) => {
    const client = await scripted(answer);
    const r = await client.heartbeat(1000);
    expect(r).toMatchObject({ ok: false, kind: "protocol" });
    expect(!r.ok && r.reason).toMatch(reason);
  });

  it("calls a peer that does not open with SETTINGS a protocol error", async () => {
    const client = await scripted(() => undefined, Buffer.from("SSH-2.0-OpenSSH_9.2\r\n"));
    const r = await client.heartbeat(1000);
    expect(r).toMatchObject({ ok: false, kind: "protocol" });
    expect(!r.ok && r.reason).toMatch(/does not speak HTTP\/2/);
  });

  it("fails streams above a GOAWAY's last id as connection failures, then reconnects", async () => {
    let goaway = true;
    const client = await scripted((id) => {
      if (goaway) {
        goaway = false;
        return frame(7, 0, 0, Buffer.alloc(8));
      }
      return Buffer.concat([
        frame(1, 4, id, responseHeaders),
        frame(0, 0, id, message),
        frame(1, 5, id, trailers),
      ]);
    });
    expect(await client.heartbeat(1000)).toMatchObject({
      ok: false,
      kind: "connection",
      reason: /GOAWAY/,
    });
    expect((await client.heartbeat(1000)).ok).toBe(true);
  });

  it("refuses an answer over 1 MiB without buffering it all", async () => {
    const client = await scripted((id) => {
      const chunk = frame(0, 0, id, Buffer.alloc(16_000));
      return Buffer.concat([
        frame(1, 4, id, responseHeaders),
        ...Array.from({ length: 70 }, () => chunk),
      ]);
    });
    const r = await client.heartbeat(2000);
    expect(r).toMatchObject({ ok: false, kind: "protocol" });
    expect(!r.ok && r.reason).toMatch(/larger than/);
  });
});
