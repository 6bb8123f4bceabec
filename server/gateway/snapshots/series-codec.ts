import { endianness } from "node:os";
import { toBinary } from "@bufbuild/protobuf";
import {
  MetricSeriesSchema,
  SeriesSchema,
  WorkerDetailSchema,
  type MetricSeries,
  type Series,
  type Worker,
  type WorkerDetail,
} from "../../../gen/stallwatch/v1/fleet_pb.js";

/**
 * Encodes a WorkerDetail with its series packed by hand. Series are nearly
 * all of a snapshot's bytes (15 min of round trips and metrics per worker),
 * and the generic writer spends most of a snapshot's CPU on them, one value
 * at a time. The output is what `toBinary` writes for the same message
 * (packed repeated fields, as proto3 does), up to the order of the fields.
 */

/** Field numbers in fleet.proto written here by hand. */
const DETAIL_WORKER = 1;
const DETAIL_ROUND_TRIPS = 2;
const DETAIL_METRICS = 3;
const SERIES_TIMES = 1;
const SERIES_VALUES = 2;
const METRIC_NAME = 1;
const METRIC_SERIES = 2;
const LEN = 2; // wire type: length-delimited

const littleEndian = endianness() === "LE";
const utf8 = new TextEncoder();

/** Bytes of a varint for a non-negative safe integer. */
function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size += 1;
  }
  return size;
}

function writeVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 128) {
    out[at++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  out[at++] = n;
  return at;
}

/** A length-delimited field around `body`. */
function lengthDelimited(field: number, body: Uint8Array): Uint8Array {
  const head = (field << 3) | LEN;
  const out = new Uint8Array(varintSize(head) + varintSize(body.length) + body.length);
  const at = writeVarint(out, writeVarint(out, 0, head), body.length);
  out.set(body, at);
  return out;
}

/** A Series' bytes; the generic writer for times it cannot pack as safe integers. */
export function encodeSeries(series: Series): Uint8Array {
  const { timesMs, values } = series;
  let timesSize = 0;
  for (const t of timesMs) {
    if (t < 0n || t > BigInt(Number.MAX_SAFE_INTEGER)) return toBinary(SeriesSchema, series);
    timesSize += varintSize(Number(t));
  }
  if (!littleEndian) return toBinary(SeriesSchema, series);
  const valuesSize = values.length * 8;
  const size =
    (timesMs.length > 0 ? 1 + varintSize(timesSize) + timesSize : 0) +
    (values.length > 0 ? 1 + varintSize(valuesSize) + valuesSize : 0);
  const out = new Uint8Array(size);
  let at = 0;
  if (timesMs.length > 0) {
    out[at++] = (SERIES_TIMES << 3) | LEN;
    at = writeVarint(out, at, timesSize);
    for (const t of timesMs) at = writeVarint(out, at, Number(t));
  }
  if (values.length > 0) {
    out[at++] = (SERIES_VALUES << 3) | LEN;
    at = writeVarint(out, at, valuesSize);
    out.set(new Uint8Array(Float64Array.from(values).buffer), at);
  }
  return out;
}

function encodeMetricSeries(m: MetricSeries): Uint8Array[] {
  if (m.$unknown?.length) return [toBinary(MetricSeriesSchema, m)];
  const parts: Uint8Array[] = [];
  if (m.name !== "") parts.push(lengthDelimited(METRIC_NAME, utf8.encode(m.name)));
  if (m.series) parts.push(lengthDelimited(METRIC_SERIES, encodeSeries(m.series)));
  return parts;
}

const concat = (parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);

/**
 * A WorkerDetail's bytes, series packed by hand; its worker message taken
 * from `encoded` when that already holds its bytes (the snapshot's worker list).
 */
export function encodeWorkerDetail(
  detail: WorkerDetail,
  encoded?: ReadonlyMap<Worker, Uint8Array>,
): Uint8Array {
  const { roundTripsMs, metrics } = detail;
  const worker = detail.worker && encoded?.get(detail.worker);
  const parts: Uint8Array[] = [
    toBinary(WorkerDetailSchema, {
      ...detail,
      ...(worker ? { worker: undefined } : {}),
      roundTripsMs: undefined,
      metrics: [],
    }),
  ];
  if (worker) parts.push(lengthDelimited(DETAIL_WORKER, worker));
  if (roundTripsMs) parts.push(lengthDelimited(DETAIL_ROUND_TRIPS, encodeSeries(roundTripsMs)));
  for (const m of metrics)
    parts.push(lengthDelimited(DETAIL_METRICS, concat(encodeMetricSeries(m))));
  return concat(parts);
}
