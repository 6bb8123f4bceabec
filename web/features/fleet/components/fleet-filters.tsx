import { WorkerKind } from "../../../../gen/stallwatch/v1/fleet_pb";
import { KIND_LABEL, LIVENESS_LABEL, LIVENESS_ORDER } from "../../../shared/liveness";
import type { FleetFilter } from "../api/fleet-view";

const KINDS = [WorkerKind.SPARK, WorkerKind.BEAM, WorkerKind.AGENT];
const STATES = LIVENESS_ORDER;

/** Text, kind and liveness filters; the page keeps them in the URL. */
export function FleetFilters({
  filter,
  onChange,
}: {
  filter: FleetFilter;
  onChange: (patch: Partial<FleetFilter>) => void;
}) {
  return (
    <div className="filters" role="search">
      <label>
        <span className="visually-hidden">Filter workers</span>
        <input
          type="search"
          placeholder="Filter: id, address, reason (/)"
          value={filter.text}
          onChange={(e) => onChange({ text: e.target.value })}
          id="fleet-filter"
        />
      </label>
      <label>
        Kind{" "}
        <select
          value={filter.kind ?? ""}
          onChange={(e) => onChange({ kind: KINDS.find((k) => String(k) === e.target.value) })}
        >
          <option value="">all</option>
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {KIND_LABEL[k]}
            </option>
          ))}
        </select>
      </label>
      <label>
        State{" "}
        <select
          value={filter.liveness ?? ""}
          onChange={(e) => onChange({ liveness: STATES.find((l) => String(l) === e.target.value) })}
        >
          <option value="">all</option>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {LIVENESS_LABEL[s]}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
