import type { Liveness } from "../../gen/stallwatch/v1/fleet_pb";
import { LIVENESS_KEY, LIVENESS_LABEL } from "./liveness";
import "./liveness-badge.css";

/** The liveness word in a colored pill; the word carries the meaning, the key the color. */
export function LivenessBadge({ liveness }: { liveness: Liveness }) {
  return (
    <span className={`badge liveness-${LIVENESS_KEY[liveness]}`}>{LIVENESS_LABEL[liveness]}</span>
  );
}
