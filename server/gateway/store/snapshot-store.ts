import type { Snapshot, SnapshotInfo } from "../../../gen/stallwatch/v1/snapshot_pb.js";

/** What snapshots need from durable storage (server/gateway/store implements it on SQLite and PostgreSQL). */
export interface SnapshotStore {
  /** Stores durably and returns the info with `size_bytes` filled in. */
  putSnapshot(snapshot: Snapshot): Promise<SnapshotInfo>;
  /** Undefined when unknown or expired. */
  getSnapshot(id: string): Promise<Snapshot | undefined>;
  listSnapshots(limit: number): Promise<SnapshotInfo[]>;
  deleteSnapshot(id: string): Promise<boolean>;
  /**
   * Stores a body already encoded and gzipped (snapshot-codec.ts: the same
   * format `putSnapshot` writes) and returns the info with `size_bytes`.
   */
  putSnapshotBody(info: SnapshotInfo, body: Uint8Array): Promise<SnapshotInfo>;
  /** The stored info and gzipped body, for snapshot-codec.ts; undefined when unknown or expired. */
  getSnapshotBody(id: string): Promise<{ info: SnapshotInfo; body: Uint8Array } | undefined>;
}
