import type { RouteObject } from "react-router";
import { FleetPage } from "../features/fleet/components/fleet-page";
import { WorkerPage } from "../features/worker/components/worker-page";
import { Layout, NotFound } from "./layout";

/** Every view is a URL. */
export const routes: RouteObject[] = [
  {
    element: <Layout />,
    children: [
      { path: "/", element: <FleetPage /> },
      { path: "/workers/:workerId", element: <WorkerPage /> },
      { path: "*", element: <NotFound /> },
    ],
  },
];
