// A farm of lightweight UdfWorker.Manage servers in one process: N h2c
// listeners on ephemeral loopback ports, each answering every call with a
// fixed, pre-encoded HeartbeatResponse. Prints {"addresses":[...]} once up.
//
// The servers speak just enough HTTP/2 over raw sockets (ack SETTINGS and
// PING, answer each stream that ends) to cost far less CPU than any client
// under test: on this 2-core machine the farm must not starve what is measured.
// Interoperability with real servers is the job of the tests, not of this farm.
import net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { WorkerResponseSchema } from "../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { grpcMessage, h2Frame, hpackLiteral } from "../server/testing/h2-frames.js";

const count = Number(process.argv[2] ?? 1000);
const body = toBinary(
  WorkerResponseSchema,
  create(WorkerResponseSchema, {
    manage: { case: "heartbeat", value: { metrics: { active_sessions: "0", uptime_ms: "1" } } },
  }),
);

/** A frame whose stream id is written later (0 until then). */
const frame = (type: number, flags: number, payload: Uint8Array) =>
  h2Frame(type, flags, 0, payload);
const message = grpcMessage(body);
// headers (:status 200 from the static table), one message, trailers: one write per answer.
const FRAMES = [
  frame(
    1,
    0x4,
    Buffer.concat([Buffer.from([0x88]), hpackLiteral("content-type", "application/grpc")]),
  ),
  frame(0, 0, message),
  frame(1, 0x5, hpackLiteral("grpc-status", "0")),
];
const ANSWER = Buffer.concat(FRAMES);
/** Where each frame's stream id sits in ANSWER. */
const STREAM_IDS = FRAMES.map(
  (_, i) => FRAMES.slice(0, i).reduce((sum, f) => sum + f.length, 0) + 5,
);
const SETTINGS = frame(4, 0, new Uint8Array(0));
const SETTINGS_ACK = frame(4, 1, new Uint8Array(0));
const PREFACE_LENGTH = 24;

function serve(socket: net.Socket): void {
  socket.setNoDelay(true);
  socket.on("error", () => undefined);
  socket.write(SETTINGS);
  let pending: Buffer = Buffer.alloc(0);
  let prefaceLeft = PREFACE_LENGTH;
  socket.on("data", (chunk: Buffer) => {
    let buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    if (prefaceLeft > 0) {
      const skip = Math.min(prefaceLeft, buf.length);
      prefaceLeft -= skip;
      buf = buf.subarray(skip);
    }
    let at = 0;
    const out: Buffer[] = [];
    while (buf.length - at >= 9) {
      const length = buf.readUIntBE(at, 3);
      if (buf.length - at < 9 + length) break;
      const type = buf[at + 3] ?? 0;
      const flags = buf[at + 4] ?? 0;
      const id = buf.readUInt32BE(at + 5) & 0x7fffffff;
      if (type === 4 && !(flags & 1)) out.push(SETTINGS_ACK);
      if (type === 6 && !(flags & 1)) out.push(frame(6, 1, buf.subarray(at + 9, at + 17)));
      if ((type === 0 || type === 1) && flags & 1) {
        const answer = Buffer.from(ANSWER);
        for (const offset of STREAM_IDS) answer.writeUInt32BE(id, offset);
        out.push(answer);
      }
      at += 9 + length;
    }
    pending = buf.subarray(at);
    if (out.length) socket.write(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out));
  });
}

const addresses: string[] = [];
for (let i = 0; i < count; i++) {
  const server = net.createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", 4096, resolve));
  const address = server.address();
  if (address && typeof address !== "string") addresses.push(`127.0.0.1:${address.port}`);
}
process.stdout.write(JSON.stringify({ msg: "listening", addresses }) + "\n");
