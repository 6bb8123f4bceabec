import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { parseHostPort } from "../../shared/net/host-port.js";
import { unusedPort } from "../../testing/misbehaving-peers.js";
import { FakeClock } from "../../testing/fake-clock.js";
import { FakeStatusSource } from "../status-report/testing/fake-status-source.js";
import { startAgentClient } from "./agent-client.js";
import { memoryLog } from "./testing/memory-log.js";

describe("startAgentClient on a fake clock", () => {
  it("retries a refusing gateway only when its clock says the backoff has passed", async () => {
    const clock = new FakeClock();
    const { log, lines, waitFor } = memoryLog();
    const attempts = () =>
      lines.filter((l) => /connect to the gateway agent endpoint/.test(l.msg ?? "")).length;
    const agent = startAgentClient({
      gatewayAddress: parseHostPort(await unusedPort()),
      announce: {
        workerId: "clocked",
        pid: process.pid,
        host: hostname(),
        runtime: `node ${process.version}`,
        version: "test",
        startedAtMs: clock.now(),
        capabilities: [],
      },
      source: new FakeStatusSource(clock.now()),
      log,
      clock,
      backoff: { initialMs: 1000, maxMs: 4000, jitter: 0 },
    });
    const first = await waitFor(
      (l) => l.msg === "could not connect to the gateway agent endpoint; retrying",
      "the first refusal",
    );
    expect(first.retryInMs).toBe(1000);
    // Real time passing does not move the agent: only its clock does.
    await new Promise((r) => setTimeout(r, 300));
    expect(attempts()).toBe(1);
    await clock.advance(1000);
    const second = await waitFor(
      (l) => l.msg === "still cannot connect to the gateway agent endpoint",
      "the second attempt",
    );
    expect(second.retryInMs).toBe(2000);
    expect(agent.connected).toBe(false);
    await agent.stop();
  });
});
