import { EventsList } from "../../../shared/events-list";
import { LoadError } from "../../../shared/load-error";
import { Page } from "../../../shared/page";
import { useUrlFilter } from "../../../shared/use-url-filter";
import { useEvents } from "../api/audit";
import { TextFilter } from "./text-filter";

const KINDS = ["", "liveness", "session_stalled", "session_cleared", "action", "identity"];

/** Fleet events with their evidence; filter by worker and kind (in the URL). */
export function EventsPage() {
  const [filter, set] = useUrlFilter({ workerId: "worker", kind: "kind" });
  const { data, error, refetch } = useEvents(filter);
  return (
    <Page id="events-page-title" title="Events">
      <div className="filters" role="search">
        <TextFilter label="Worker" value={filter.workerId} onChange={(v) => set("workerId", v)} />
        <label>
          Kind{" "}
          <select value={filter.kind} onChange={(e) => set("kind", e.target.value)}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {k ? k.replace("_", " ") : "all"}
              </option>
            ))}
          </select>
        </label>
      </div>
      <LoadError error={error} what="load events" retry={refetch} />
      {data && (
        <EventsList
          events={data.events}
          workerLink={(id) => `/workers/${encodeURIComponent(id)}`}
        />
      )}
    </Page>
  );
}
