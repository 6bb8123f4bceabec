/** The permalink of a snapshot: a worker's snapshot opens on that worker's page. */
export function snapshotPath(id: string, workerId?: string): string {
  return workerId ? `/snapshots/${id}/workers/${encodeURIComponent(workerId)}` : `/snapshots/${id}`;
}
