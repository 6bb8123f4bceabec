import { useState } from "react";
import { useCreateSnapshot } from "../api/snapshots";

/** Creates a snapshot (of one worker, or the fleet) and copies its permalink. */
export function ShareSnapshotButton({ workerId }: { workerId?: string }) {
  const create = useCreateSnapshot();
  const [link, setLink] = useState("");
  const share = () =>
    create.mutate(workerId ? { workerId } : {}, {
      onSuccess: ({ info }) => {
        const url = `${window.location.origin}/snapshots/${info?.id ?? ""}`;
        setLink(url);
        // Only secure contexts (https, localhost) have a clipboard; the link is shown either way.
        if ("clipboard" in navigator)
          void navigator.clipboard.writeText(url).catch(() => undefined);
      },
    });
  return (
    <span className="share">
      <button type="button" onClick={share} disabled={create.isPending}>
        {create.isPending ? "Taking snapshot…" : "Share snapshot"}
      </button>
      {link && (
        <span role="status" className="sub">
          Link copied: <a href={link}>{link}</a>
        </span>
      )}
      {create.error && (
        <span role="alert" className="error">
          Snapshot failed: {create.error.message}. Try again.
        </span>
      )}
    </span>
  );
}
