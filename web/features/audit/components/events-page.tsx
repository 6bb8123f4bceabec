import { useSearchParams } from "react-router";
import { EventsList } from "../../worker/components/events-list";
import { useEvents } from "../api/audit";

const KINDS = ["", "liveness", "session_stalled", "session_cleared", "action"];

/** Fleet events with their evidence; filter by worker and kind (in the URL). */
export function EventsPage() {
  const [params, setParams] = useSearchParams();
  const filter = { workerId: params.get("worker") ?? "", kind: params.get("kind") ?? "" };
  const { data, error, refetch } = useEvents(filter);
  const set = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  return (
    <section aria-labelledby="events-page-title">
      <div className="page-head">
        <h1 id="events-page-title">Events</h1>
      </div>
      <div className="filters" role="search">
        <label>
          Worker <input value={filter.workerId} onChange={(e) => set("worker", e.target.value)} />
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
      {data && <EventsList events={data.events} />}
    </section>
  );
}
