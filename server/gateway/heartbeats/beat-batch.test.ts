import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BeatBatchWriter, readBeatBatch } from "./beat-batch.js";
import type { BeatRecord } from "./probe-shard.js";

const record: fc.Arbitrary<BeatRecord> = fc
  .record({
    slot: fc.integer({ min: 1, max: 2 ** 31 }),
    atMs: fc.integer({ min: 0, max: 2 ** 45 }),
    rttMs: fc.double({ min: 0, max: 60_000, noNaN: true }),
    outcome: fc.constantFrom("ok", "timeout", "connection", "protocol", "status"),
    reason: fc.oneof(fc.constant(""), fc.string()),
    metrics: fc.option(fc.dictionary(fc.string(), fc.string()), { nil: undefined }),
    firstOnConnection: fc.boolean(),
  })
  .map(({ metrics, ...rest }) => (metrics === undefined ? rest : { ...rest, metrics }));

describe("beat batches", () => {
  it("give back every record, in order, whatever mix of samples and text", () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 700 }), (records) => {
        const writer = new BeatBatchWriter();
        for (const r of records) writer.push(r);
        const batch = writer.take();
        const out: BeatRecord[] = [];
        if (batch) readBeatBatch(batch, (r) => out.push(r));
        expect(out).toEqual(records);
        expect(writer.take()).toBeUndefined(); // taken: the next batch starts empty
      }),
    );
  });

  it("sends plain answers as numbers only", () => {
    const writer = new BeatBatchWriter();
    writer.push({
      slot: 7,
      atMs: 1_000,
      rttMs: 0.25,
      outcome: "ok",
      reason: "",
      firstOnConnection: false,
    });
    const batch = writer.take();
    expect(batch?.extras).toEqual([]);
    expect(Array.from(batch?.numbers ?? [])).toEqual([7, 1_000, 0.25, 0]);
  });
});
