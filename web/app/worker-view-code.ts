/**
 * The worker view's code, with the charts' code asked for right behind it,
 * before the page renders or its stream answers: the charts are then ready
 * when the first data is (issue 19.4). `import()` runs once per module, so
 * calling this again (a route, a hover, a focus) costs nothing.
 */
export async function loadWorkerView(): Promise<typeof import("../features/worker-page/index")> {
  const worker = await import("../features/worker-page/index");
  void worker.preloadCharts();
  return worker;
}
