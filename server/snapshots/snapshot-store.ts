import type { Snapshot, SnapshotInfo } from "../../gen/stallwatch/v1/snapshot_pb.js";

/** What snapshots need from durable storage (the SQLite store implements it). */
export interface SnapshotStore {
  /** Stores durably and returns the info with `size_bytes` filled in. */
  putSnapshot(snapshot: Snapshot): SnapshotInfo;
  /** Undefined when unknown or expired. */
  getSnapshot(id: string): Snapshot | undefined;
  listSnapshots(limit: number): SnapshotInfo[];
  deleteSnapshot(id: string): boolean;
}
