import { useEffect, useState } from "react";
import { useCreateSnapshot } from "../api/use-create-snapshot";

/** How long the "copied" note stays; it can also be dismissed. */
const NOTE_MS = 12_000;

/**
 * Creates a snapshot (of one worker, or the fleet) and copies a summary
 * ready to paste into the incident channel, ending with the permalink
 * ("3 sessions stalled, 1 worker unresponsive — demo-1: hang, processing
 * 4 min, thread not moving — snapshot <link>"). A worker's permalink opens
 * that worker's page. The note floats over the page, so the top bar never
 * wraps, and goes away by itself.
 */
export function ShareSnapshotButton({ workerId }: { workerId?: string }) {
  const create = useCreateSnapshot();
  const [shared, setShared] = useState<{ link: string; text: string } | undefined>(undefined);
  useEffect(() => {
    if (!shared) return;
    const timer = setTimeout(() => setShared(undefined), NOTE_MS);
    return () => clearTimeout(timer);
  }, [shared]);
  const share = () =>
    create.mutate(workerId ? { workerId } : {}, {
      onSuccess: ({ link, text }) => {
        setShared({ link, text });
        // Only secure contexts (https, localhost) have a clipboard; the text is shown either way.
        if ("clipboard" in navigator)
          void navigator.clipboard.writeText(text).catch(() => undefined);
      },
    });
  return (
    <span className="share">
      <button type="button" onClick={share} disabled={create.isPending}>
        {create.isPending ? "Taking snapshot…" : "Share snapshot"}
      </button>
      {shared && (
        <span role="status" className="share-note">
          <span className="share-text" title={shared.text}>
            Copied: {shared.text.slice(0, shared.text.length - shared.link.length)}
            <a href={shared.link}>{shared.link}</a>
          </span>
          <button type="button" aria-label="Dismiss" onClick={() => setShared(undefined)}>
            ×
          </button>
        </span>
      )}
      {create.error && (
        <span role="alert" className="error share-note">
          Snapshot failed: {create.error.message}. Try again.
        </span>
      )}
    </span>
  );
}
