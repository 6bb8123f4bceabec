import type { RouteObject } from "react-router";
import { FleetPage } from "../features/fleet/components/fleet-page";
import { Layout, NotFound } from "./layout";

/**
 * Every view is a URL. The fleet is in the first chunk (it is the first
 * paint of an incident); every other view loads with its route, so the
 * fleet's first load carries neither charts nor thread-dump code.
 */
export const routes: RouteObject[] = [
  {
    element: <Layout />,
    children: [
      { path: "/", element: <FleetPage /> },
      {
        path: "/stalled",
        lazy: async () => ({
          Component: (await import("../features/stalled/components/stalled-page")).StalledPage,
        }),
      },
      {
        path: "/workers/:workerId",
        lazy: async () => ({
          Component: (await import("../features/worker/components/worker-page")).WorkerPage,
        }),
      },
      {
        path: "/snapshots",
        lazy: async () => ({
          Component: (await import("../features/snapshots/components/snapshots-page"))
            .SnapshotsPage,
        }),
      },
      {
        path: "/snapshots/:snapshotId",
        lazy: async () => ({
          Component: (await import("../features/snapshots/components/snapshot-page")).SnapshotPage,
        }),
      },
      {
        path: "/snapshots/:snapshotId/workers/:workerId",
        lazy: async () => ({
          Component: (await import("../features/snapshots/components/snapshot-page")).SnapshotPage,
        }),
      },
      {
        path: "/audit",
        lazy: async () => ({
          Component: (await import("../features/audit/components/audit-page")).AuditPage,
        }),
      },
      {
        path: "/events",
        lazy: async () => ({
          Component: (await import("../features/audit/components/events-page")).EventsPage,
        }),
      },
      { path: "*", element: <NotFound /> },
    ],
  },
];
