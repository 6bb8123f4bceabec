// The worker feature's public surface: the live page, the detail view a
// snapshot renders from a stored worker, and the charts' head start.
// The feature's styles travel with its public surface (Vite bundles CSS imports).
import "./worker.css";
export { WorkerPage } from "./components/worker-page";
export { WorkerDetailView } from "./components/worker-detail-view";
export { preloadCharts } from "./components/chart-code";
