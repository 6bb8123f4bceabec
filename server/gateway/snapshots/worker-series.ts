import { create } from "@bufbuild/protobuf";
import {
  MetricSeriesSchema,
  SeriesSchema,
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
 * each numeric metric by name, each packed by `packSeries` (series-pack.ts).
 *   u8 version (1) · round trips · varint metrics · per metric:
 *   varint name length · UTF-8 name · series.
 */

const VERSION = 1;
/** Caps for a reader (the prober keeps far fewer metrics and shorter names). */
const MAX_METRICS = 1000;
const MAX_NAME_BYTES = 1024;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** Appends `worker`'s series over the window ending at `nowMs` to `out`. */
export function packWorkerSeries(
  out: ByteWriter,
  worker: Pick<TrackedWorker, "roundTrips" | "metricSeries">,
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
}

/** What a blob reads back as: the detail's series fields. */
export interface WorkerSeries {
  roundTripsMs: Series;
  metrics: MetricSeries[];
}

/** Reads a blob `packWorkerSeries` wrote; throws on anything malformed. */
export function unpackWorkerSeries(blob: Uint8Array): WorkerSeries {
  const r = new ByteReader(blob);
  const version = r.u8();
  if (version !== VERSION) throw new Error(`packed series: unknown version ${version}`);
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
  if (!r.done) throw new Error("packed series: trailing bytes");
  return { roundTripsMs, metrics };
}
