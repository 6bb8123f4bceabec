import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { FleetService, Liveness, type Worker } from "../../gen/stallwatch/v1/fleet_pb.js";
import { pollUntil } from "./poll.js";

/** A dashboard-API client as the browser uses it: Connect over HTTP/1.1. */
export function fleetClient(httpAddress: string): Client<typeof FleetService> {
  return createClient(
    FleetService,
    createConnectTransport({ baseUrl: `http://${httpAddress}`, httpVersion: "1.1" }),
  );
}

/** Waits until the worker `id` is in `liveness`, returning it. */
export function waitForLiveness(
  client: Client<typeof FleetService>,
  id: string,
  liveness: Liveness,
  timeoutMs = 10_000,
): Promise<Worker> {
  return pollUntil(
    async () => {
      const { workers } = await client.listWorkers({}, { timeoutMs: 2000 });
      return workers.find((w) => w.id === id && w.liveness === liveness);
    },
    { timeoutMs, what: `${id} to be ${Liveness[liveness]}` },
  );
}
