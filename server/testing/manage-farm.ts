import http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { WorkerResponseSchema } from "../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { grpcMessage } from "./h2-frames.js";

/** N UdfWorker.Manage endpoints on ephemeral loopback ports, in this process. */
export interface ManageFarm {
  addresses: string[];
  /** Heartbeats answered so far, per address. */
  beats: Map<string, number>;
  /** Called on every heartbeat answered (benches time hand-overs with it). */
  onBeat: ((address: string, atMs: number) => void) | undefined;
  close(): Promise<void>;
}

/**
 * A farm of minimal Manage servers: each answers every call with one fixed
 * HeartbeatResponse over real h2c sockets. Enough for tests about who probes
 * whom; the reference worker (`stallwatch worker`) is what tests of actions use.
 */
export async function startManageFarm(count: number): Promise<ManageFarm> {
  const body = toBinary(
    WorkerResponseSchema,
    create(WorkerResponseSchema, {
      manage: { case: "heartbeat", value: { metrics: { active_sessions: "0", uptime_ms: "1" } } },
    }),
  );
  const frame = grpcMessage(body);
  const servers: http2.Http2Server[] = [];
  const sessions = new Set<http2.ServerHttp2Session>();
  const addresses: string[] = [];
  const beats = new Map<string, number>();
  const farm: ManageFarm = {
    addresses,
    beats,
    onBeat: undefined,
    async close() {
      for (const s of sessions) s.destroy();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    },
  };
  for (let i = 0; i < count; i++) {
    const server = http2.createServer();
    let address = "";
    server.on("session", (s) => {
      sessions.add(s);
      s.once("close", () => sessions.delete(s));
    });
    server.on("stream", (stream) => {
      stream.on("data", () => undefined);
      stream.on("end", () => {
        beats.set(address, (beats.get(address) ?? 0) + 1);
        farm.onBeat?.(address, Date.now());
        stream.respond(
          { ":status": 200, "content-type": "application/grpc+proto" },
          { waitForTrailers: true },
        );
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
        stream.end(frame);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const bound = server.address();
    if (bound && typeof bound !== "string") address = `127.0.0.1:${bound.port}`;
    addresses.push(address);
    servers.push(server);
  }
  return farm;
}
