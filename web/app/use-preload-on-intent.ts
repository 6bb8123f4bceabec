import { useEffect } from "react";

/**
 * Calls `load` when the pointer goes over, or the focus goes to, a link whose
 * path matches `path`, anywhere on the page: the moment before a click is
 * when a view's code is best fetched. One listener pair on the document, so
 * every link counts (fleet rows, the stalled board, banners, events) without
 * each view knowing. `load` must be cheap to call again (a cached `import()`).
 */
export function usePreloadOnIntent(path: RegExp, load: () => Promise<unknown>): void {
  useEffect(() => {
    const onIntent = (e: Event) => {
      const link = e.target instanceof Element ? e.target.closest("a[href]") : null;
      // A failed fetch shows where the view renders, with its own retry; not here.
      if (link instanceof HTMLAnchorElement && path.test(link.pathname))
        load().catch(() => undefined);
    };
    document.addEventListener("pointerover", onIntent);
    document.addEventListener("focusin", onIntent);
    return () => {
      document.removeEventListener("pointerover", onIntent);
      document.removeEventListener("focusin", onIntent);
    };
  }, [path, load]);
}
