import { Liveness } from "../../gen/stallwatch/v1/fleet_pb";
import { LIVENESS_LABEL } from "./liveness";
import { stateKey } from "./state-key";
import "./badge-tones.css";

/** The liveness word in a colored pill; the word carries the meaning, the key the color. */
export function LivenessBadge({ liveness }: { liveness: Liveness }) {
  return (
    <span className={`badge liveness-${stateKey(Liveness, liveness)}`}>
      {LIVENESS_LABEL[liveness]}
    </span>
  );
}
