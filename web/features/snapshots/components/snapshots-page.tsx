import { Link } from "react-router";
import { DataTable } from "../../../shared/data-table";
import { ago, clip, formatBytes } from "../../../shared/format";
import { LoadError } from "../../../shared/load-error";
import { Page } from "../../../shared/page";
import { useNow } from "../../../shared/use-now";
import { useSnapshotList } from "../api/snapshots";
import { ShareSnapshotButton } from "../../share-snapshot/index";

const COLUMNS = ["Taken", "Of", "By", "Note", "Size"];

/** Recent snapshots. */
export function SnapshotsPage() {
  const { data, error, refetch } = useSnapshotList();
  const now = useNow(10_000);
  return (
    <Page id="snapshots-title" title="Snapshots" head={<ShareSnapshotButton />}>
      <LoadError error={error} what="list snapshots" retry={refetch} />
      {data?.snapshots.length === 0 && <p>No snapshots yet.</p>}
      {data && data.snapshots.length > 0 && (
        <DataTable columns={COLUMNS}>
          {data.snapshots.map((s) => (
            <tr key={s.id}>
              <td>
                <Link to={`/snapshots/${s.id}`}>{ago(s.createdAtMs, now)}</Link>
              </td>
              <td>{s.workerId ? clip(s.workerId, 50) : `the fleet (${s.workerCount} workers)`}</td>
              <td>{clip(s.createdBy, 40)}</td>
              <td>{clip(s.note, 80)}</td>
              <td className="num">{formatBytes(Number(s.sizeBytes))}</td>
            </tr>
          ))}
        </DataTable>
      )}
    </Page>
  );
}
