// The worker feature's head start, the one part of its public surface that
// belongs in the main bundle: a few lines of `import()` (chart-code.ts), so
// the app can ask for the charts' code (recharts) in parallel with the worker
// route's own chunk instead of after it (web/app/worker-view-code.ts).
export { preloadCharts } from "./components/chart-code";
