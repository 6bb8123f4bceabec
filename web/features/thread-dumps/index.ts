// The thread-dump feature's public surface: the live panel (worker page) and
// the view of one dump (worker page, snapshots).
export { ThreadDumpPanel } from "./components/thread-dump-panel";
export { ThreadDumpView } from "./components/thread-dump-view";
