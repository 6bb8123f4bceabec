// The worker feature's public surface: the live page, and the detail view a
// snapshot renders from a stored worker.
export { WorkerPage } from "./components/worker-page";
export { WorkerDetailView } from "./components/worker-detail-view";
