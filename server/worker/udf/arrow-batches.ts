import { RecordBatchReader, tableToIPC, Table, type RecordBatch } from "apache-arrow";

/**
 * Decodes one `DataRequest.data`: a self-contained Arrow IPC stream (schema
 * then record batches). When the session's `Init.input_schema` is set, bare
 * record-batch messages are accepted too, by reading them after that schema.
 * Throws on anything that is not Arrow IPC.
 */
export function decodeBatches(
  data: Uint8Array,
  inputSchema: Uint8Array | undefined,
): RecordBatch[] {
  try {
    return readAll(data);
  } catch (err) {
    if (!inputSchema) throw err;
    const joined = new Uint8Array(inputSchema.length + data.length);
    joined.set(inputSchema);
    joined.set(data, inputSchema.length);
    return readAll(joined);
  }
}

function readAll(bytes: Uint8Array): RecordBatch[] {
  if (bytes.length === 0) throw new Error("empty data: expected an Arrow IPC stream");
  const reader = RecordBatchReader.from(bytes);
  const batches = [...reader];
  // A stream with a schema and no batches is valid; garbage yields no schema at all.
  if (batches.length === 0 && reader.schema.fields.length === 0) {
    throw new Error("not an Arrow IPC stream");
  }
  return batches;
}

/** Encodes batches as one self-contained Arrow IPC stream (one `DataResponse`). */
export function encodeBatches(batches: RecordBatch[]): Uint8Array {
  return tableToIPC(new Table(batches), "stream");
}
