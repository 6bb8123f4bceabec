import type { Transport } from "@connectrpc/connect";
import { TransportProvider } from "../shared/transport-context";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState } from "react";
import { createBrowserRouter, createMemoryRouter, RouterProvider } from "react-router";
import { routes } from "./routes";

export interface AppProps {
  transport: Transport;
  /** For tests: start at this path with an in-memory history. */
  initialPath?: string;
}

/** Root: one QueryClient and one router per app instance, the transport injected. */
export function App({ transport, initialPath }: AppProps) {
  const [queryClient] = useState(
    () =>
      new QueryClient({ defaultOptions: { queries: { retry: 2, refetchOnWindowFocus: false } } }),
  );
  const [router] = useState(() =>
    initialPath
      ? createMemoryRouter(routes, { initialEntries: [initialPath] })
      : createBrowserRouter(routes),
  );
  return (
    <TransportProvider transport={transport}>
      <QueryClientProvider client={queryClient}>
        <RouterProvider router={router} />
      </QueryClientProvider>
    </TransportProvider>
  );
}
