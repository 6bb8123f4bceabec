import { EventsList } from "../../../shared/events-list";
import { useUrlFilter } from "../../../shared/use-url-filter";
import { useEvents } from "../api/audit";

const KINDS = ["", "liveness", "session_stalled", "session_cleared", "action", "identity"];

/** Fleet events with their evidence; filter by worker and kind (in the URL). */
export function EventsPage() {
  const [filter, set] = useUrlFilter({ workerId: "worker", kind: "kind" });
  const { data, error, refetch } = useEvents(filter);
  return (
    <section aria-labelledby="events-page-title">
      <div className="page-head">
        <h1 id="events-page-title">Events</h1>
      </div>
      <div className="filters" role="search">
        <label>
          Worker <input value={filter.workerId} onChange={(e) => set("workerId", e.target.value)} />
        </label>
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
      {error && (
        <p role="alert">
          Could not load events: {error.message}.{" "}
          <button type="button" onClick={() => void refetch()}>
            Retry
          </button>
        </p>
      )}
      {data && (
        <EventsList
          events={data.events}
          workerLink={(id) => `/workers/${encodeURIComponent(id)}`}
        />
      )}
    </section>
  );
}
