/**
 * "Could not load the audit log: <why>. [Retry]" for a query that failed;
 * nothing while there is no error, so a view can always render it. `what`
 * completes "Could not …".
 */
export function LoadError({
  error,
  what,
  retry,
}: {
  error: Error | null;
  what: string;
  retry: () => unknown;
}) {
  if (!error) return null;
  return (
    <p role="alert">
      Could not {what}: {error.message}.{" "}
      <button type="button" onClick={() => void retry()}>
        Retry
      </button>
    </p>
  );
}
