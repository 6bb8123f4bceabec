import { gunzipSync, gzipSync } from "node:zlib";
import { create, equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import {
  SnapshotInfoSchema,
  SnapshotSchema,
  type Snapshot,
} from "../../../gen/stallwatch/v1/snapshot_pb.js";
import { openStore } from "../store/store.js";
import { decodeSnapshotView, encodeSnapshot } from "./snapshot-codec.js";
import { systemClock } from "../../shared/clock/clock.js";

function sample(workers: number): Snapshot {
  const ids = Array.from({ length: workers }, (_, i) => (i === 2 ? "wörker-ü" : `w-${i}`));
  return create(SnapshotSchema, {
    info: { id: "snap-aaaaaaaaaaaaaaaaaaaaaa", createdAtMs: 5n, workerCount: workers },
    workers: ids.map((id) => ({ id, address: `127.0.0.1:${id.length}`, liveness: 1 })),
    details: ids.map((id, i) => ({
      worker: { id, address: "127.0.0.1:1", metrics: { uptime_ms: String(i) } },
      roundTripsMs: { timesMs: [1n, 2n, BigInt(Date.now())], values: [0.5, 1.25, i] },
      metrics: [{ name: "uptime_ms", series: { timesMs: [3n], values: [i] } }],
      events: [{ id: `e-${i}`, workerId: id, kind: "liveness", atMs: 7n }],
    })),
    stalled: [{ workerId: "w-1" }],
    events: [{ id: "e-x", workerId: "w-0", kind: "action", summary: "drained" }],
    audit: [{ id: "au-1", actor: "alice", workerId: "w-0" }],
  });
}

describe("snapshot codec", () => {
  it("round-trips a snapshot exactly, in the format plain gunzip + fromBinary reads", async () => {
    const snapshot = sample(300);
    const body = await encodeSnapshot(snapshot);
    expect(equals(SnapshotSchema, fromBinary(SnapshotSchema, gunzipSync(body)), snapshot)).toBe(
      true,
    );
    expect(equals(SnapshotSchema, await decodeSnapshotView(body, {}), snapshot)).toBe(true);
  });

  it("encodes a worker message shared by the list and its detail once, and reads it back in both", async () => {
    const snapshot = sample(10);
    snapshot.details.forEach((d, i) => (d.worker = snapshot.workers[i]));
    const body = await encodeSnapshot(snapshot);
    const back = await decodeSnapshotView(body, {});
    expect(equals(SnapshotSchema, back, snapshot)).toBe(true);
    expect(back.details[2]?.worker?.id).toBe("wörker-ü");
  });

  it("reads bodies stored before it existed (one gzipped toBinary)", async () => {
    const snapshot = sample(4);
    const old = gzipSync(toBinary(SnapshotSchema, snapshot));
    expect(equals(SnapshotSchema, await decodeSnapshotView(old, {}), snapshot)).toBe(true);
  });

  it("serves the summary without details and one worker's detail by id", async () => {
    const snapshot = sample(20);
    const body = await encodeSnapshot(snapshot);
    const summary = await decodeSnapshotView(body, { summary: true });
    expect(summary.details).toEqual([]);
    expect(equals(SnapshotSchema, summary, { ...snapshot, details: [] })).toBe(true);

    for (const id of ["w-7", "wörker-ü"]) {
      const one = await decodeSnapshotView(body, { workerId: id, summary: true });
      expect(one.details.map((d) => d.worker?.id)).toEqual([id]);
      const want = snapshot.details.find((d) => d.worker?.id === id);
      expect(want && equals(SnapshotSchema, one, { ...snapshot, details: [want] })).toBe(true);
    }
    expect((await decodeSnapshotView(body, { workerId: "w-70" })).details).toEqual([]);
    expect((await decodeSnapshotView(body, { workerId: "w-" })).details).toEqual([]);
  });

  it("stores and loads through the store's body methods, with the size in the info", async () => {
    const store = await openStore({
      clock: systemClock,
      path: ":memory:",
      log: pino({ level: "silent" }),
      retention: { snapshotsMs: 60_000, eventsMs: 60_000, auditMs: 60_000 },
    });
    try {
      const snapshot = sample(3);
      const info0 = create(SnapshotInfoSchema, {
        id: "snap-bbbbbbbbbbbbbbbbbbbbbb",
        expiresAtMs: BigInt(Date.now() + 60_000),
      });
      snapshot.info = info0;
      const body = await encodeSnapshot(snapshot);
      const info = await store.putSnapshotBody(info0, body);
      expect(info.sizeBytes).toBe(BigInt(body.length));
      const stored = await store.getSnapshotBody(info.id);
      expect(stored?.info.sizeBytes).toBe(BigInt(body.length));
      // The older whole-message reader still reads what the codec wrote.
      const loaded = await store.getSnapshot(info.id);
      expect(loaded?.workers.map((w) => w.id)).toEqual(["w-0", "w-1", "wörker-ü"]);
      expect(await store.getSnapshotBody("unknown-id")).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});

describe("snapshot codec with packed series", () => {
  it("stores captured series packed and serves them as plain series in every view", async () => {
    const { Fleet } = await import("../fleet/fleet.js");
    const { EventLog } = await import("../events/event-log.js");
    const { captureSnapshot, buildSnapshot } = await import("./build-snapshot.js");
    const fleet = new Fleet({ clock: systemClock });
    const nowMs = Date.now();
    for (const id of ["w-0", "w-1"]) {
      const w = fleet.enroll(id, "spark", "127.0.0.1:1");
      for (let s = 300; s >= 0; s--)
        fleet.beatAnswered(w, nowMs - s * 1000, {
          rttMs: s === 200 ? 99 : 0.5,
          metrics: { uptime_ms: String(nowMs - s * 1000) },
        });
      if (id === "w-1") fleet.beatMissed(w, nowMs - 150_500, "deadline exceeded after 1000 ms");
    }
    const collector = { stalledSessions: () => [] } as never;
    const scope = { id: "x", createdBy: "t", workerId: "", note: "", retentionMs: 1, nowMs };
    const { snapshot, series } = await captureSnapshot(
      scope,
      fleet,
      new EventLog(systemClock, 10),
      collector,
      [],
    );
    const body = await encodeSnapshot(snapshot, series);

    const all = await decodeSnapshotView(body, {});
    // The synchronous build (a cluster shard) holds the same series.
    const built = buildSnapshot(scope, fleet, new EventLog(systemClock, 10), collector, []);
    expect(equals(SnapshotSchema, all, built)).toBe(true);
    const rtt = all.details[1]?.roundTripsMs;
    expect(rtt?.values).toContain(99);
    expect(rtt?.timesMs.at(-1)).toBe(BigInt(nowMs));
    expect(all.details[1]?.metrics[0]?.series?.values.at(-1)).toBe(nowMs);
    // Misses are kept at their own times (not downsampled), and none is none.
    expect(all.details[1]?.missedBeats?.timesMs).toEqual([BigInt(nowMs - 150_500)]);
    expect(all.details[0]?.missedBeats?.timesMs).toEqual([]);
    const one = await decodeSnapshotView(body, { workerId: "w-1", summary: true });
    expect(equals(SnapshotSchema, one, { ...all, details: all.details.slice(1) })).toBe(true);
    // A plain reader (the unfurl) reads it too, details without series.
    const plain = fromBinary(SnapshotSchema, gunzipSync(body));
    expect(plain.workers.map((w) => w.id)).toEqual(["w-0", "w-1"]);
    expect(plain.details[0]?.roundTripsMs).toBeUndefined();
  });
});
