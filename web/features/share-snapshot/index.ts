// "Share snapshot": take one and copy its summary and permalink (top bar,
// worker page, snapshot list).
export { ShareSnapshotButton } from "./components/share-snapshot-button";
