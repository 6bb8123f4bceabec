// "Share snapshot": take one and copy its summary and permalink (top bar,
// worker page, snapshot list).
// The feature's styles travel with its public surface (Vite bundles CSS imports).
import "./share-snapshot.css";
export { ShareSnapshotButton } from "./components/share-snapshot-button";
