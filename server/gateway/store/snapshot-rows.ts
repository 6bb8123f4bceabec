import { gunzipSync, gzipSync } from "node:zlib";
import { clone, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Kysely } from "kysely";
import {
  SnapshotInfoSchema,
  SnapshotSchema,
  type Snapshot,
} from "../../../gen/stallwatch/v1/snapshot_pb.js";
import type { SnapshotStore } from "./snapshot-store.js";
import { bytes } from "./action-rows.js";
import type { StoreTables } from "./schema.js";

type Guard = <T>(what: string, fn: () => Promise<T>) => Promise<T>;

const clampLimit = (limit: number) => Math.max(1, Math.min(1000, Math.floor(limit) || 1));

/** Snapshots on either dialect: the body gzip-compressed, the info apart for listing. */
export function createSnapshotRows(
  db: Kysely<StoreTables>,
  guard: Guard,
  now: () => number,
): SnapshotStore {
  const putSnapshotBody: SnapshotStore["putSnapshotBody"] = async (info, body) => {
    const stored = clone(SnapshotInfoSchema, info);
    stored.sizeBytes = BigInt(body.length);
    await guard("put snapshot", () =>
      db
        .insertInto("snapshots")
        .values({
          id: stored.id,
          created_at_ms: Number(stored.createdAtMs),
          expires_at_ms: Number(stored.expiresAtMs),
          info: bytes(toBinary(SnapshotInfoSchema, stored)),
          body: bytes(body),
        })
        .execute(),
    );
    return stored;
  };
  const getSnapshotBody: SnapshotStore["getSnapshotBody"] = async (id) => {
    const row = await guard("get snapshot", () =>
      db
        .selectFrom("snapshots")
        .select(["info", "body"])
        .where("id", "=", id)
        .where("expires_at_ms", ">", now())
        .executeTakeFirst(),
    );
    return row && { info: fromBinary(SnapshotInfoSchema, row.info), body: row.body };
  };

  return {
    putSnapshotBody,
    getSnapshotBody,

    async putSnapshot(snapshot: Snapshot) {
      const info = snapshot.info;
      if (!info) throw new Error("a snapshot needs its info");
      // Series compress well (about 4x on a 1,000-worker fleet); the CPU cost is small next to the disk write.
      const stored = await putSnapshotBody(
        info,
        gzipSync(toBinary(SnapshotSchema, snapshot), { level: 1 }),
      );
      snapshot.info = stored;
      return stored;
    },

    async getSnapshot(id) {
      const row = await getSnapshotBody(id);
      if (!row) return undefined;
      const snapshot = fromBinary(SnapshotSchema, gunzipSync(row.body));
      // The stored info carries the size, known only once the body was encoded.
      snapshot.info = row.info;
      return snapshot;
    },

    async listSnapshots(limit) {
      const rows = await guard("list snapshots", () =>
        db
          .selectFrom("snapshots")
          .select("info")
          .where("expires_at_ms", ">", now())
          .orderBy("created_at_ms", "desc")
          .limit(clampLimit(limit))
          .execute(),
      );
      return rows.map((r) => fromBinary(SnapshotInfoSchema, r.info));
    },

    async deleteSnapshot(id) {
      const result = await guard("delete snapshot", () =>
        db.deleteFrom("snapshots").where("id", "=", id).executeTakeFirst(),
      );
      return result.numDeletedRows > 0n;
    },
  };
}
