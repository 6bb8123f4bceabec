import type { RouteObject } from "react-router";
import { AuditPage } from "../features/audit/components/audit-page";
import { EventsPage } from "../features/audit/components/events-page";
import { FleetPage } from "../features/fleet/components/fleet-page";
import { SnapshotPage } from "../features/snapshots/components/snapshot-page";
import { SnapshotsPage } from "../features/snapshots/components/snapshots-page";
import { StalledPage } from "../features/stalled/components/stalled-page";
import { WorkerPage } from "../features/worker/components/worker-page";
import { Layout, NotFound } from "./layout";

/** Every view is a URL. */
export const routes: RouteObject[] = [
  {
    element: <Layout />,
    children: [
      { path: "/", element: <FleetPage /> },
      { path: "/stalled", element: <StalledPage /> },
      { path: "/workers/:workerId", element: <WorkerPage /> },
      { path: "/snapshots", element: <SnapshotsPage /> },
      { path: "/snapshots/:snapshotId", element: <SnapshotPage /> },
      { path: "/snapshots/:snapshotId/workers/:workerId", element: <SnapshotPage /> },
      { path: "/audit", element: <AuditPage /> },
      { path: "/events", element: <EventsPage /> },
      { path: "*", element: <NotFound /> },
    ],
  },
];
