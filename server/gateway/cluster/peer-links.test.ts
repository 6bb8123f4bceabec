import http2 from "node:http2";
import { afterEach, describe, expect, it } from "vitest";
import { formatHostPort } from "../../shared/net/host-port.js";
import { closeServer, listen } from "../../shared/net/listen.js";
import { FakeClock } from "../../testing/fake-clock.js";
import { pino } from "pino";
import { PeerLinks } from "./peer-links.js";

/**
 * A peer's --peer listener that counts WatchFleet calls and either refuses
 * each one at once or accepts it and then says nothing.
 */
async function fakePeer(behaviour: "refuse" | "silent") {
  const streams: http2.ServerHttp2Stream[] = [];
  const server = http2.createServer();
  server.on("stream", (stream) => {
    streams.push(stream);
    if (behaviour === "refuse") stream.respond({ ":status": 503 }, { endStream: true });
    else stream.respond({ ":status": 200, "content-type": "application/grpc" });
  });
  const at = await listen(server, { host: "127.0.0.1", port: 0 }, "peer");
  return {
    url: `http://${formatHostPort(at)}`,
    calls: () => streams.length,
    close: () => {
      for (const s of streams) s.destroy();
      return closeServer(server, 1000);
    },
  };
}

/** Waits (on real I/O, not the fake clock) until `check` holds. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(check()).toBe(true);
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

/**
 * Follows one peer. `failed()` counts the fleet streams that ended in an
 * error: once it is logged, the backoff timer is set on the fake clock.
 */
function follow(url: string, clock: FakeClock) {
  let failures = 0;
  const log = pino(
    { level: "debug" },
    {
      write: (line: string) => {
        if (line.includes("peer fleet stream failed")) failures += 1;
      },
    },
  );
  const links = new PeerLinks({
    token: "cluster-token-0123456789",
    selfId: "gw-a",
    log,
    clock,
    onWorkers: () => {},
    onConnected: () => {},
    onGone: () => {},
  });
  links.setMembers([{ gatewayId: "gw-b", peerUrl: url, httpUrl: "http://127.0.0.1:1" }]);
  cleanup.push(() => {
    links.close();
    return Promise.resolve();
  });
  return { links, failed: () => failures };
}

describe("peer links (fake clock, a real socket)", () => {
  it("reconnects a refused fleet stream with a doubling backoff, and stops on close", async () => {
    const peer = await fakePeer("refuse");
    cleanup.push(peer.close);
    const clock = new FakeClock();
    const { links, failed } = follow(peer.url, clock);
    await until(() => peer.calls() === 1);
    // Backoff 100 ms, then 200, then 400: nothing is retried before its time.
    for (const backoffMs of [100, 200, 400]) {
      const calls = peer.calls();
      await until(() => failed() === calls);
      await clock.advance(backoffMs - 1);
      // Real time for a premature retry to reach the peer, were there one.
      await new Promise((r) => setTimeout(r, 20));
      expect(peer.calls()).toBe(calls);
      await clock.advance(1);
      await until(() => peer.calls() === calls + 1);
    }
    expect(links.get("gw-b")?.connected).toBe(false);
    await until(() => failed() === 4);
    links.close();
    await clock.advance(60_000);
    expect(peer.calls()).toBe(4);
  });

  it("drops a stream that stays silent past the idle deadline, and dials again", async () => {
    const peer = await fakePeer("silent");
    cleanup.push(peer.close);
    const clock = new FakeClock();
    const { failed } = follow(peer.url, clock);
    await until(() => peer.calls() === 1);
    await clock.advance(14_999);
    expect(failed()).toBe(0);
    await clock.advance(1);
    await until(() => failed() === 1);
    await clock.advance(100);
    await until(() => peer.calls() === 2);
  });
});
