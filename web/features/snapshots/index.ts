// The snapshots feature's public surface: the list and the read-only permalink pages.
export { SnapshotsPage } from "./components/snapshots-page";
export { SnapshotPage } from "./components/snapshot-page";
