import type { Snapshot, SnapshotInfo } from "../../gen/stallwatch/v1/snapshot_pb.js";

/** What snapshots need from durable storage (server/store implements it on SQLite and PostgreSQL). */
export interface SnapshotStore {
  /** Stores durably and returns the info with `size_bytes` filled in. */
  putSnapshot(snapshot: Snapshot): Promise<SnapshotInfo>;
  /** Undefined when unknown or expired. */
  getSnapshot(id: string): Promise<Snapshot | undefined>;
  listSnapshots(limit: number): Promise<SnapshotInfo[]>;
  deleteSnapshot(id: string): Promise<boolean>;
}
