import { createClient, type Client, type Transport } from "@connectrpc/connect";
import type { DescService } from "@bufbuild/protobuf";
import { createContext, useContext, useMemo, type ReactNode } from "react";

const TransportContext = createContext<Transport | undefined>(undefined);

/** Makes the app's one transport available to data hooks. */
export function TransportProvider({
  transport,
  children,
}: {
  transport: Transport;
  children: ReactNode;
}) {
  return <TransportContext.Provider value={transport}>{children}</TransportContext.Provider>;
}

/** A typed client for `service` over the app's transport (stable across renders). */
export function useClient<T extends DescService>(service: T): Client<T> {
  const transport = useTransport();
  return useMemo(() => createClient(service, transport), [service, transport]);
}

/** The app's transport itself (e.g. to describe it to a Web Worker). */
export function useTransport(): Transport {
  const transport = useContext(TransportContext);
  if (!transport) throw new Error("a data hook used outside TransportProvider");
  return transport;
}
