// A farm of lightweight UdfWorker.Manage servers in one process: N h2c
// listeners on ephemeral loopback ports, each answering Heartbeat with a
// fixed, pre-encoded HeartbeatResponse. Prints {"addresses":[...]} once up.
import http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { WorkerResponseSchema } from "../gen/org/apache/spark/udf/worker/udf_message_pb.js";

const count = Number(process.argv[2] ?? 1000);
const body = toBinary(
  WorkerResponseSchema,
  create(WorkerResponseSchema, {
    manage: { case: "heartbeat", value: { metrics: { active_sessions: "0", uptime_ms: "1" } } },
  }),
);
const frame = Buffer.alloc(5 + body.length);
frame.writeUInt32BE(body.length, 1);
frame.set(body, 5);

const addresses: string[] = [];
for (let i = 0; i < count; i++) {
  const server = http2.createServer();
  server.on("stream", (stream) => {
    stream.on("data", () => undefined);
    stream.on("end", () => {
      stream.respond(
        { ":status": 200, "content-type": "application/grpc+proto" },
        { waitForTrailers: true },
      );
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(frame);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address && typeof address !== "string") addresses.push(`127.0.0.1:${address.port}`);
}
process.stdout.write(JSON.stringify({ msg: "listening", addresses }) + "\n");
