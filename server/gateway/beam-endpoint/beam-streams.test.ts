import { EventEmitter } from "node:events";
import type { Http2Session } from "node:http2";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { Fleet } from "../fleet/fleet.js";
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

  it("never lets a Beam harness take an agent's or a static worker's id", () => {
    const fleet = new Fleet();
    fleet.enroll("w1", "agent", "a:1");
    fleet.enroll("127.0.0.1:7071", "spark", "127.0.0.1:7071");
    const streams = new BeamStreams(fleet, { maxStreams: 10, maxStreamsPerConnection: 4 });
    const agent = refusal(() => streams.check("w1", undefined));
    expect(agent.reason).toBe("kind_conflict");
    expect(agent.message).toContain('worker id "w1" belongs to a Stallwatch agent');
    const stat = refusal(() => streams.check("127.0.0.1:7071", undefined));
    expect(stat.code).toBe(Code.AlreadyExists);
    expect(stat.message).toContain("belongs to a static Spark worker");
  });

  it("refuses a duplicate while the holder is alive, and lets a successor take over a dead one", () => {
    const fleet = new Fleet();
    const worker = fleet.enroll("b1", "beam", "a:1");
    const streams = new BeamStreams(fleet, { maxStreams: 10, maxStreamsPerConnection: 4 });
    const first = handle("b1");
    streams.add(first);
    fleet.beatAnswered(worker, 1);
    expect(refusal(() => streams.check("b1", undefined)).reason).toBe("duplicate_id");
    fleet.beatMissed(worker, 2, "no PING acknowledgement");
    expect(streams.check("b1", undefined)).toBe(first);
  });

  it("caps streams overall and per connection", () => {
    const fleet = new Fleet();
    const streams = new BeamStreams(fleet, { maxStreams: 3, maxStreamsPerConnection: 2 });
    // Only its identity matters here (a WeakMap key), not its behaviour.
    const conn = new EventEmitter() as unknown as Http2Session;
    streams.add(handle("a", conn));
    streams.add(handle("b", conn));
    expect(refusal(() => streams.check("c", conn)).reason).toBe("connection_cap");
    streams.add(handle("c"));
    const over = refusal(() => streams.check("d", undefined));
    expect([over.reason, over.code]).toEqual(["streams_cap", Code.ResourceExhausted]);
    streams.remove(handle("a", conn));
    expect(streams.size).toBe(3); // "a" was not the registered handle object
  });
});
