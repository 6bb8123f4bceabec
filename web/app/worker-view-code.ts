import { preloadCharts } from "../features/worker-page/preload";

/**
 * The worker view's code, with the charts' code asked for at the same time,
 * before the page renders or its stream answers: the charts are then ready
 * when the first data is (issue 19.4). the feature's preload.ts is a few
 * lines of `import()` in the main bundle, so a cold navigation straight to a worker's
 * URL fetches the route's chunk and recharts in parallel instead of one after
 * the other. `import()` runs once per module, so calling this again (a route,
 * a hover, a focus) costs nothing.
 */
export async function loadWorkerView(): Promise<typeof import("../features/worker-page/index")> {
  void preloadCharts();
  return import("../features/worker-page/index");
}
