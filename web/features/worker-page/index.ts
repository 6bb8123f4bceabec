// The worker feature's public surface: the live page and the detail view a
// snapshot renders from a stored worker (the charts' head start is preload.ts).
// The feature's styles travel with its public surface (Vite bundles CSS imports).
import "./worker.css";
export { WorkerPage } from "./components/worker-page";
export { WorkerDetailView } from "./components/worker-detail-view";
