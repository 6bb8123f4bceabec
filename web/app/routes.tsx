import type { RouteObject } from "react-router";
import { FleetPage } from "../features/fleet/index";
import { Layout } from "./layout";
import { NotFound } from "./not-found";
import { ViewError } from "./view-error";
import { loadWorkerView } from "./worker-view-code";

/**
 * Every view is a URL. The fleet is in the first chunk (it is the first
 * paint of an incident); every other view loads with its route, so the
 * fleet's first load carries neither charts nor thread-dump code. Routes
 * import only a feature's `index.ts`. A worker view's code, charts included,
 * is fetched ahead of the click when a link to a worker is hovered or
 * focused (the Layout's `usePreloadOnIntent`).
 */
const viewRoutes: RouteObject[] = [
  { path: "/", element: <FleetPage /> },
  {
    path: "/stalled",
    lazy: async () => ({ Component: (await import("../features/stalled/index")).StalledPage }),
  },
  {
    path: "/workers/:workerId",
    // The charts' code is asked for with the view's (worker-view-code.ts).
    lazy: async () => ({ Component: (await loadWorkerView()).WorkerPage }),
  },
  {
    // A profile is a link: its progress, then its table and flame graph.
    path: "/workers/:workerId/profiles/:profileId",
    lazy: async () => ({
      Component: (await import("../features/profiles/index")).ProfilePage,
    }),
  },
  {
    path: "/snapshots",
    lazy: async () => ({
      Component: (await import("../features/snapshots/index")).SnapshotsPage,
    }),
  },
  {
    path: "/snapshots/:snapshotId",
    lazy: async () => ({
      Component: (await import("../features/snapshots/index")).SnapshotPage,
    }),
  },
  {
    path: "/snapshots/:snapshotId/workers/:workerId",
    lazy: async () => {
      // A stored worker draws the same charts: their code comes alongside.
      loadWorkerView().catch(() => undefined);
      return { Component: (await import("../features/snapshots/index")).SnapshotPage };
    },
  },
  {
    path: "/audit",
    lazy: async () => ({ Component: (await import("../features/audit/index")).AuditPage }),
  },
  {
    path: "/policies",
    lazy: async () => ({
      Component: (await import("../features/policies/index")).PoliciesPage,
    }),
  },
  {
    path: "/events",
    lazy: async () => ({ Component: (await import("../features/audit/index")).EventsPage }),
  },
  { path: "*", element: <NotFound /> },
];

export const routes: RouteObject[] = [
  {
    element: <Layout />,
    // A view that fails (its code gone after an upgrade, or a render error)
    // says so inside the frame: the header and the other views stay usable.
    children: [{ errorElement: <ViewError />, children: viewRoutes }],
  },
];
