import { EventEmitter } from "node:events";
import type { Http2Session } from "node:http2";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { BeamRefused, BeamStreams, type BeamStreamHandle } from "./beam-streams.js";

const handle = (workerId: string, session?: Http2Session): BeamStreamHandle => ({
  workerId,
  peer: "127.0.0.1:1",
  session,
  openedAtMs: 0,
  abort: () => undefined,
});

function refusal(fn: () => unknown): BeamRefused {
  try {
    fn();
  } catch (err) {
    if (err instanceof BeamRefused) return err;
    throw err;
  }
  throw new Error("not refused");
}

describe("BeamStreams", () => {
  it("keys a harness without worker_id by its peer, and refuses unprintable ids", () => {
    expect(BeamStreams.idFor(null, "10.0.0.1:5")).toEqual({
      id: "peer:10.0.0.1:5",
      fromPeer: true,
    });
    expect(BeamStreams.idFor(" h-1 ", "x")).toEqual({ id: "h-1", fromPeer: false });
    expect(refusal(() => BeamStreams.idFor("a\nb", "x")).code).toBe(Code.InvalidArgument);
  });

  it("caps streams overall and per connection", () => {
    const streams = new BeamStreams({ maxStreams: 3, maxStreamsPerConnection: 2 });
    // Only its identity matters here (a WeakMap key), not its behaviour.
    const conn = new EventEmitter() as unknown as Http2Session;
    streams.add(handle("a", conn));
    streams.add(handle("b", conn));
    expect(refusal(() => streams.checkCaps("c", conn)).reason).toBe("connection_cap");
    streams.add(handle("c"));
    const over = refusal(() => streams.checkCaps("d", undefined));
    expect([over.reason, over.code]).toEqual(["streams_cap", Code.ResourceExhausted]);
    // A stream for an id already open (a takeover) is not a new stream.
    expect(() => streams.checkCaps("c", undefined)).not.toThrow();
    streams.remove(handle("a", conn));
    expect(streams.size).toBe(3); // "a" was not the registered handle object
  });
});
