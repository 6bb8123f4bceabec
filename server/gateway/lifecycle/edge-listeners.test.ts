import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../shared/clock/clock.js";
import { StoreFatalError, storeFailureForCallers } from "../store/store-errors.js";
import { createEdgeListeners, type EdgeListeners } from "./edge-listeners.js";

let listeners: EdgeListeners | undefined;
afterEach(async () => {
  await listeners?.close();
  listeners = undefined;
});

/** Real listeners on loopback whose handler would say "ok" to everything. */
async function started(): Promise<{ edge: EdgeListeners; base: string }> {
  const edge = (listeners = createEdgeListeners(
    { http: (_req, res) => res.end("ok\n"), grpc: (_req, res) => res.end() },
    systemClock,
  ));
  await new Promise<void>((resolve) => edge.http.listen(0, "127.0.0.1", resolve));
  const { port } = edge.http.address() as AddressInfo;
  return { edge, base: `http://127.0.0.1:${port}` };
}

const get = async (url: string) => {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, text: await res.text(), retryAfter: res.headers.get("retry-after") };
};

describe("requests refused while the gateway stops", () => {
  it("say it is shutting down, with Retry-After", async () => {
    const { edge, base } = await started();
    expect(await get(`${base}/readyz`)).toMatchObject({ status: 200, text: "ok\n" });
    edge.refuseNew();
    const refused = await get(`${base}/readyz`);
    expect(refused).toMatchObject({ status: 503, retryAfter: "1" });
    // A Connect error body: the dashboard's client reads Unavailable with this message.
    expect(JSON.parse(refused.text)).toEqual({
      code: "unavailable",
      message: "the gateway is shutting down; retry (here once it is back, or on another gateway)",
    });
  });

  // Issue 19 item 8: on a full disk /readyz said "the gateway is shutting down".
  it("name the store failure that stops it, on /readyz and everywhere else; the first reason stays", async () => {
    const { edge, base } = await started();
    const full = new StoreFatalError("create snapshot: database or disk is full", "SQLITE_FULL");
    edge.refuseNew(storeFailureForCallers(full));
    edge.refuseNew(); // SIGTERM during the fatal grace
    for (const path of ["/readyz", "/stallwatch.v1.SnapshotService/CreateSnapshot"]) {
      const answer = await get(`${base}${path}`);
      expect(answer.status).toBe(503);
      expect((JSON.parse(answer.text) as { message: string }).message).toMatch(
        /^the gateway cannot write to its database \(SQLITE_FULL\) and is restarting/,
      );
    }
  });
});
