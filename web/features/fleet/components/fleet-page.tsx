import { useMemo } from "react";
import { useSearchParams } from "react-router";
import { WorkerKind } from "../../../../gen/stallwatch/v1/fleet_pb";
import { LIVENESS_LABEL, LIVENESS_ORDER } from "../../../shared/liveness";
import { useNow } from "../../../shared/use-now";
import { findIncident, viewFleet, type FleetFilter, type SortKey } from "../api/fleet-view";
import { useFleetWatch } from "../api/use-fleet-watch";
import { ConnectionIndicator } from "../../../shared/connection-indicator";
import { FleetFilters } from "./fleet-filters";
import { FleetTable } from "./fleet-table";
import { IncidentBanner } from "./incident-banner";
import { FleetTotalsLine } from "./fleet-totals";

const SORTS: SortKey[] = ["severity", "id", "latency", "heartbeat", "sessions"];
const KIND_PARAM: Record<string, WorkerKind> = {
  spark: WorkerKind.SPARK,
  beam: WorkerKind.BEAM,
  agent: WorkerKind.AGENT,
};

function readFilter(params: URLSearchParams): FleetFilter {
  const state = params.get("state");
  const liveness = LIVENESS_ORDER.find((l) => LIVENESS_LABEL[l] === state);
  const sort = params.get("sort") as SortKey | null;
  return {
    text: params.get("q") ?? "",
    kind: KIND_PARAM[params.get("kind") ?? ""],
    liveness,
    sort: sort && SORTS.includes(sort) ? sort : "severity",
  };
}

function writeFilter(filter: FleetFilter): URLSearchParams {
  const params = new URLSearchParams();
  if (filter.text) params.set("q", filter.text);
  const kind = Object.entries(KIND_PARAM).find(([, k]) => k === filter.kind)?.[0];
  if (kind) params.set("kind", kind);
  if (filter.liveness !== undefined) params.set("state", LIVENESS_LABEL[filter.liveness]);
  if (filter.sort !== "severity") params.set("sort", filter.sort);
  return params;
}

/** The fleet overview: banner, filters, the live table. Filters live in the URL. */
export function FleetPage() {
  const { fleet, status } = useFleetWatch();
  const now = useNow();
  const [params, setParams] = useSearchParams();
  const filter = readFilter(params);
  const workers = useMemo(
    () => viewFleet(fleet.workers.values(), filter),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- filter is derived from params
    [fleet.workers, params],
  );
  const incident = useMemo(() => findIncident(fleet.workers.values()), [fleet.workers]);
  const update = (patch: Partial<FleetFilter>) =>
    setParams(writeFilter({ ...filter, ...patch }), { replace: true });

  return (
    <section aria-labelledby="fleet-title">
      <div className="page-head">
        <h1 id="fleet-title">Fleet</h1>
        <span className="sub">
          {fleet.workers.size} workers
          {workers.length !== fleet.workers.size ? `, ${workers.length} shown` : ""}
        </span>
        <ConnectionIndicator status={status} asOfMs={fleet.asOfMs} />
      </div>
      {fleet.totals && <FleetTotalsLine totals={fleet.totals} />}
      <IncidentBanner incident={incident} nowMs={now} />
      <FleetFilters filter={filter} onChange={update} />
      <FleetTable
        workers={workers}
        nowMs={now}
        sort={filter.sort}
        onSort={(sort) => update({ sort })}
      />
    </section>
  );
}
