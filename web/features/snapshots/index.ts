// The snapshots feature's public surface: the list and the read-only permalink pages.
// The feature's styles travel with its public surface (Vite bundles CSS imports).
import "./snapshots.css";
export { SnapshotsPage } from "./components/snapshots-page";
export { SnapshotPage } from "./components/snapshot-page";
