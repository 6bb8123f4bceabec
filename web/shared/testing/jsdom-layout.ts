/**
 * jsdom has no layout: every element measures 0×0, so a virtualized list
 * would render no rows. Component tests that render virtualized views give
 * elements a screen-sized box here. (Real layout is covered in Chromium by
 * the e2e journeys and the benchmarks.)
 */
export function giveElementsAScreenSizedBox(): void {
  Object.defineProperty(HTMLElement.prototype, "offsetHeight", {
    configurable: true,
    get: () => 800,
  });
  Object.defineProperty(HTMLElement.prototype, "offsetWidth", {
    configurable: true,
    get: () => 1200,
  });
}
