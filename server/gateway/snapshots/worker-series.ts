import { create } from "@bufbuild/protobuf";
import {
  BeatMissesSchema,
  MetricSeriesSchema,
  SeriesSchema,
  type BeatMisses,
  type MetricSeries,
  type Series,
} from "../../../gen/stallwatch/v1/fleet_pb.js";
import type { TrackedWorker } from "../fleet/tracked-worker.js";
import {
  ByteReader,
  ByteWriter,
  packSeries,
  SNAPSHOT_RESOLUTION,
  unpackSeries,
  type Resolution,
} from "./series-pack.js";

/**
 * All of one worker's series for a snapshot in one blob: round trips, then
 * each numeric metric by name, each packed by `packSeries` (series-pack.ts),
 * then the missed beats' times, raw (marks on a chart: an average of times
 * in a bucket would put one where no beat was missed).
 *   u8 version (2) · round trips · varint metrics · per metric:
 *   varint name length · UTF-8 name · series ·
 *   zigzag window start (ms) · varint misses · per miss: varint ms after the previous
 *   (the first after the window's start).
 * Version 1 (before misses were kept) still reads, without them.
 */

const VERSION = 2;
/** Caps for a reader (the prober keeps far fewer metrics and shorter names). */
const MAX_METRICS = 1000;
const MAX_NAME_BYTES = 1024;
/** A day of misses at one beat per 100 ms: far over what a ring keeps. */
const MAX_MISSES = 1_000_000;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** Appends `worker`'s series over the window ending at `nowMs` to `out`. */
export function packWorkerSeries(
  out: ByteWriter,
  worker: Pick<TrackedWorker, "roundTrips" | "metricSeries" | "missedBeats">,
  nowMs: number,
  res: Resolution = SNAPSHOT_RESOLUTION,
): void {
  out.u8(VERSION);
  packSeries(out, worker.roundTrips, nowMs, res);
  out.varint(worker.metricSeries.size);
  for (const [name, ring] of worker.metricSeries) {
    const bytes = utf8.encode(name);
    out.varint(bytes.length);
    out.bytes(bytes);
    packSeries(out, ring, nowMs, res);
  }
  const startMs = Math.round(nowMs - res.windowMs);
  const misses: number[] = [];
  worker.missedBeats?.forEachBetween(startMs, nowMs, (t) => misses.push(Math.round(t)));
  out.zigzag(startMs);
  out.varint(misses.length);
  let prev = startMs;
  for (const t of misses) {
    out.varint(Math.max(0, t - prev));
    prev = Math.max(prev, t);
  }
}

/** What a blob reads back as: the detail's series fields (no `missedBeats` from a version 1 blob). */
export interface WorkerSeries {
  roundTripsMs: Series;
  metrics: MetricSeries[];
  missedBeats?: BeatMisses;
}

/** Reads a blob `packWorkerSeries` wrote; throws on anything malformed. */
export function unpackWorkerSeries(blob: Uint8Array): WorkerSeries {
  const r = new ByteReader(blob);
  const version = r.u8();
  if (version !== 1 && version !== VERSION)
    throw new Error(`packed series: unknown version ${version}`);
  const roundTripsMs = create(SeriesSchema, unpackSeries(r));
  const n = r.varint();
  if (n > MAX_METRICS) throw new Error("packed series: too many metrics");
  const metrics: MetricSeries[] = [];
  for (let i = 0; i < n; i++) {
    const len = r.varint();
    if (len > MAX_NAME_BYTES) throw new Error("packed series: metric name too long");
    const name = utf8Decoder.decode(r.bytes(len));
    metrics.push(create(MetricSeriesSchema, { name, series: unpackSeries(r) }));
  }
  if (version === 1) {
    if (!r.done) throw new Error("packed series: trailing bytes");
    return { roundTripsMs, metrics };
  }
  let at = r.zigzag();
  const misses = r.varint();
  if (misses > MAX_MISSES) throw new Error("packed series: too many missed beats");
  const timesMs: bigint[] = [];
  for (let i = 0; i < misses; i++) {
    at += r.varint();
    timesMs.push(BigInt(at));
  }
  if (!r.done) throw new Error("packed series: trailing bytes");
  return { roundTripsMs, metrics, missedBeats: create(BeatMissesSchema, { timesMs }) };
}
