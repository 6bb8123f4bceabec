import { promisify } from "node:util";
import { gunzip, gzip } from "node:zlib";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import {
  WorkerDetailSchema,
  WorkerSchema,
  type Worker,
  type WorkerDetail,
} from "../../../gen/stallwatch/v1/fleet_pb.js";
import { SnapshotSchema, type Snapshot } from "../../../gen/stallwatch/v1/snapshot_pb.js";
import { inSlices } from "./in-slices.js";
import { encodeWorkerDetail } from "./series-codec.js";
import { unpackWorkerSeries } from "./worker-series.js";

/**
 * A snapshot's stored form: the `Snapshot` message, gzipped, as before:
 * `gunzip` + `fromBinary(SnapshotSchema)` reads it back, so older rows and
 * other readers (the unfurl) need nothing new.
 *
 * Encoding a 5,000-worker fleet is hundreds of milliseconds of CPU, and the
 * event loop also serves the dashboard and the prober's results. So workers
 * and details (nearly all of the bytes) are encoded one by one with a pause
 * every few milliseconds, and gzip runs on libuv's thread pool. Protobuf allows it:
 * a message is the concatenation of its fields, and repeated fields keep
 * their order.
 *
 * A detail captured by `captureSnapshot` stores its series as one packed blob
 * (worker-series.ts) in field STORED_SERIES of its WorkerDetail, a number
 * fleet.proto does not use: a plain protobuf reader keeps it as an unknown
 * field and sees a detail without series; `decodeSnapshotView` expands it
 * into `round_trips_ms` and `metrics`, so API clients see plain `Series`.
 */

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Field numbers in snapshot.proto / fleet.proto this module reads by hand. */
const SNAPSHOT_WORKERS = 2;
const SNAPSHOT_DETAILS = 3;
const DETAIL_WORKER = 1;
const WORKER_ID = 1;
/** WorkerDetail field (stored form only) holding the packed series: `reserved 100000` in fleet.proto. */
const STORED_SERIES = 100_000;

/**
 * Output per thread-pool round trip. zlib's default (16 KiB) sends a 10 MB
 * snapshot back through the event loop 600 times, each waiting for its turn
 * behind everything else the loop does: seconds on a busy gateway.
 */
const ZLIB_CHUNK = 4 << 20;

/** The snapshot's gzipped binary form, built without blocking the event loop for long. */
export async function encodeSnapshot(
  snapshot: Snapshot,
  /** Packed series per detail (captureSnapshot); a detail not in it is encoded as it is. */
  series?: ReadonlyMap<WorkerDetail, Uint8Array>,
): Promise<Buffer> {
  const chunks: Uint8Array[] = [
    toBinary(SnapshotSchema, { ...snapshot, workers: [], details: [] }),
  ];
  const field = (fieldNo: number, body: Uint8Array) => {
    chunks.push(
      new BinaryWriter().tag(fieldNo, WireType.LengthDelimited).uint32(body.length).finish(),
      body,
    );
  };
  // A worker's message is in the list and in its detail: encoded once.
  const encoded = new Map<Worker, Uint8Array>();
  await inSlices(snapshot.workers, (w) => {
    const bytes = toBinary(WorkerSchema, w);
    encoded.set(w, bytes);
    field(SNAPSHOT_WORKERS, bytes);
  });
  await inSlices(snapshot.details, (d) => {
    const packed = series?.get(d);
    const body = encodeWorkerDetail(d, encoded);
    if (!packed) {
      field(SNAPSHOT_DETAILS, body);
      return;
    }
    const tag = new BinaryWriter()
      .tag(STORED_SERIES, WireType.LengthDelimited)
      .uint32(packed.length)
      .finish();
    field(SNAPSHOT_DETAILS, Buffer.concat([body, tag, packed]));
  });
  // level 1: series compress about 4x already; higher levels cost far more CPU for little.
  return gzipAsync(Buffer.concat(chunks), { level: 1, chunkSize: ZLIB_CHUNK });
}

/** What a reader asks for: everything, everything but details, or one worker's detail. */
export interface SnapshotView {
  summary?: boolean;
  workerId?: string;
}

/** The worker id inside one encoded WorkerDetail, read without decoding the rest. */
function detailWorkerId(detail: Uint8Array): Uint8Array | undefined {
  const reader = new BinaryReader(detail);
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field !== DETAIL_WORKER || wire !== WireType.LengthDelimited) {
      reader.skip(wire, field);
      continue;
    }
    const worker = new BinaryReader(reader.bytes());
    while (worker.pos < worker.len) {
      const [f, w] = worker.tag();
      if (f === WORKER_ID && w === WireType.LengthDelimited) return worker.bytes();
      worker.skip(w, f);
    }
    return undefined;
  }
  return undefined;
}

/** A stored detail, its packed series (if any) expanded into plain series fields. */
function decodeDetail(bytes: Uint8Array): WorkerDetail {
  const reader = new BinaryReader(bytes);
  const rest: Uint8Array[] = [];
  let packed: Uint8Array | undefined;
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [field, wire] = reader.tag();
    if (field === STORED_SERIES && wire === WireType.LengthDelimited) {
      packed = reader.bytes();
    } else {
      reader.skip(wire, field);
      rest.push(bytes.subarray(start, reader.pos));
    }
  }
  if (!packed) return fromBinary(WorkerDetailSchema, bytes);
  const detail = fromBinary(WorkerDetailSchema, Buffer.concat(rest));
  return Object.assign(detail, unpackWorkerSeries(packed));
}

const sameBytes = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && Buffer.compare(a, b) === 0;

/**
 * Reads a stored snapshot for one view. Gunzip runs on the thread pool; the
 * summary view never decodes a detail, the worker view decodes only the
 * matching one (found by its id bytes), and the full view decodes details one
 * by one with pauses. A worker id not in the snapshot gives empty `details`.
 */
export async function decodeSnapshotView(
  gzipped: Uint8Array,
  view: SnapshotView,
): Promise<Snapshot> {
  const bytes = await gunzipAsync(gzipped, { chunkSize: ZLIB_CHUNK });
  const reader = new BinaryReader(bytes);
  const rest: Uint8Array[] = [];
  const details: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [field, wire] = reader.tag();
    if (field === SNAPSHOT_DETAILS && wire === WireType.LengthDelimited) {
      details.push(reader.bytes());
    } else {
      reader.skip(wire, field);
      rest.push(bytes.subarray(start, reader.pos));
    }
  }
  const snapshot = fromBinary(SnapshotSchema, Buffer.concat(rest));
  if (view.workerId) {
    const wanted = Buffer.from(view.workerId, "utf8");
    snapshot.details = details
      .filter((d) => {
        const id = detailWorkerId(d);
        return id !== undefined && sameBytes(id, wanted);
      })
      .map(decodeDetail);
  } else if (!view.summary) {
    const decoded: WorkerDetail[] = [];
    await inSlices(details, (d) => decoded.push(decodeDetail(d)));
    snapshot.details = decoded;
  }
  return snapshot;
}
