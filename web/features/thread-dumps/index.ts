// The thread-dump feature's public surface: the live panel (worker page) and
// the view of one dump (worker page, snapshots).
// The feature's styles travel with its public surface (Vite bundles CSS imports).
import "./thread-dumps.css";
export { ThreadDumpPanel } from "./components/thread-dump-panel";
export { ThreadDumpView } from "./components/thread-dump-view";
