import type { Liveness } from "../../gen/stallwatch/v1/fleet_pb";
import { LIVENESS_LABEL } from "./liveness";

/** The liveness word in a colored pill; the word carries the meaning. */
export function LivenessBadge({ liveness }: { liveness: Liveness }) {
  const label = LIVENESS_LABEL[liveness];
  return <span className={`badge badge-${label}`}>{label}</span>;
}
