import { Link } from "react-router";
import { ago, clip, formatBytes } from "../../../shared/format";
import { useNow } from "../../../shared/use-now";
import { useSnapshotList } from "../api/snapshots";
import { ShareSnapshotButton } from "../../share-snapshot/index";

/** Recent snapshots. */
export function SnapshotsPage() {
  const { data, error, refetch } = useSnapshotList();
  const now = useNow(10_000);
  return (
    <section aria-labelledby="snapshots-title">
      <div className="page-head">
        <h1 id="snapshots-title">Snapshots</h1>
        <ShareSnapshotButton />
      </div>
      {error && (
        <p role="alert">
          Could not list snapshots: {error.message}.{" "}
          <button type="button" onClick={() => void refetch()}>
            Retry
          </button>
        </p>
      )}
      {data?.snapshots.length === 0 && <p>No snapshots yet.</p>}
      {data && data.snapshots.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Taken</th>
              <th scope="col">Of</th>
              <th scope="col">By</th>
              <th scope="col">Note</th>
              <th scope="col">Size</th>
            </tr>
          </thead>
          <tbody>
            {data.snapshots.map((s) => (
              <tr key={s.id}>
                <td>
                  <Link to={`/snapshots/${s.id}`}>{ago(s.createdAtMs, now)}</Link>
                </td>
                <td>
                  {s.workerId ? clip(s.workerId, 50) : `the fleet (${s.workerCount} workers)`}
                </td>
                <td>{clip(s.createdBy, 40)}</td>
                <td>{clip(s.note, 80)}</td>
                <td className="num">{formatBytes(Number(s.sizeBytes))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
