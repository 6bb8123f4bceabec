import { WorkerKind } from "../../../../gen/stallwatch/v1/fleet_pb";
import { SearchBox } from "../../../shared/hidden-label-input";
import { KIND_LABEL, LIVENESS_LABEL, LIVENESS_ORDER } from "../../../shared/liveness";
import type { FleetFilter } from "../api/fleet-view";

/** What each select offers, in order, with the word shown for each value. */
const KINDS = [WorkerKind.SPARK, WorkerKind.BEAM, WorkerKind.AGENT].map(
  (k) => [k, KIND_LABEL[k]] as const,
);
const STATES = LIVENESS_ORDER.map((l) => [l, LIVENESS_LABEL[l]] as const);

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
      <SearchBox
        label="Filter workers"
        placeholder="Filter: id, address, reason (/)"
        value={filter.text}
        onChange={(text) => onChange({ text })}
        id="fleet-filter"
      />
      <EnumSelect
        label="Kind"
        value={filter.kind}
        options={KINDS}
        onChange={(kind) => onChange({ kind })}
      />
      <EnumSelect
        label="State"
        value={filter.liveness}
        options={STATES}
        onChange={(liveness) => onChange({ liveness })}
      />
    </div>
  );
}

/** A select over some values of a protobuf enum, "all" (undefined) first. */
function EnumSelect<T extends number>({
  label,
  value,
  options,
  onChange,
}: {
  label: string;
  value: T | undefined;
  options: readonly (readonly [T, string])[];
  onChange: (value: T | undefined) => void;
}) {
  return (
    <label>
      {label}{" "}
      <select
        value={value ?? ""}
        onChange={(e) => onChange(options.find(([o]) => String(o) === e.target.value)?.[0])}
      >
        <option value="">all</option>
        {options.map(([o, word]) => (
          <option key={o} value={o}>
            {word}
          </option>
        ))}
      </select>
    </label>
  );
}
