// A gRPC server written by others (@grpc/grpc-js) for h2grpc's interop tests.
// Usage: node grpcjs_echo_peer.js <path to node_modules/@grpc/grpc-js>
// Prints "PORT <n>" once listening on 127.0.0.1 (kernel-chosen port); exits when stdin closes.
// One method, /stallwatch.v1.AgentService/Connect, bidi, bytes in and out: each message is
// echoed; when the client half-closes, the call ends with OK, or with the code in metadata
// x-status and a fixed non-ASCII message (grpc-js percent-encodes it in grpc-message).
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const grpc = require(process.argv[2]);
const identity = (buffer) => buffer;
const service = {
  Connect: {
    path: "/stallwatch.v1.AgentService/Connect",
    requestStream: true,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

const server = new grpc.Server({
  "grpc.max_receive_message_length": 8 << 20,
  "grpc.max_send_message_length": 8 << 20,
});
server.addService(service, {
  Connect(call) {
    const metadata = call.metadata.getMap();
    call.on("data", (message) => call.write(message));
    call.on("end", () => {
      const code = Number(metadata["x-status"] || 0);
      if (code) {
        call.emit("error", { code, details: "état: refusé ✓ (grpc-js)" });
      } else {
        call.end();
      }
    });
  },
});
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    console.error(error);
    process.exit(1);
  }
  console.log(`PORT ${port}`);
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
