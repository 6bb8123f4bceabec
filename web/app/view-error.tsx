import { isRouteErrorResponse, NavLink, useRouteError } from "react-router";

/**
 * A view's code could not be fetched: its chunk is gone from the server,
 * which is what a page left open across a gateway upgrade meets (the new
 * build's chunks have new names). Chromium, Firefox and Safari word it so.
 */
export const isChunkLoadError = (err: unknown): boolean =>
  err instanceof Error &&
  /Failed to fetch dynamically imported module|error loading dynamically imported module|Importing a module script failed|Unable to preload CSS/i.test(
    err.message,
  );

/**
 * What a view that failed shows, inside the page frame (the header and its
 * sections stay usable): why, in words, and the way on. Without it React
 * Router's own error page replaced the whole dashboard with a stack trace.
 * Every view is a URL, so a reload loses nothing.
 */
export function ViewError() {
  const error = useRouteError();
  const reload = (
    <button type="button" onClick={() => window.location.reload()}>
      Reload this page
    </button>
  );
  if (isChunkLoadError(error))
    return (
      <section className="problem" role="alert">
        <h1>This view could not be loaded</h1>
        <p>
          Its code is no longer on the gateway: Stallwatch was most likely updated since this page
          was opened. Reloading gets the new version and opens the same view.
        </p>
        <p>{reload}</p>
      </section>
    );
  const message = isRouteErrorResponse(error)
    ? `${error.status} ${error.statusText}`
    : error instanceof Error
      ? error.message
      : String(error);
  return (
    <section className="problem" role="alert">
      <h1>This view failed</h1>
      <p>
        It stopped with an error: <code>{message.slice(0, 500)}</code>. The other views still work;
        reloading opens this one afresh.
      </p>
      <p>
        {reload} <NavLink to="/">Go to the fleet</NavLink>
      </p>
    </section>
  );
}
