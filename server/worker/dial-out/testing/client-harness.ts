import { afterAll, afterEach, beforeAll, expect } from "vitest";
import type { Logger } from "../../../shared/logging/logger.js";
import { parseHostPort, type HostPort } from "../../../shared/net/host-port.js";
import { unusedPort } from "../../../testing/misbehaving-peers.js";
import { memoryLog } from "../../agent-client/testing/memory-log.js";
import { pollUntil } from "../../../testing/poll.js";
import { withTimeout } from "../../../shared/clock/clock.js";
import {
  killAllStarted,
  startStallwatch,
  type StallwatchProcess,
} from "../../../testing/spawn-stallwatch.js";
import { systemClock } from "../../../shared/clock/clock.js";

/**
 * What the dial-out clients' integration tests (the agent, Beam mode) share:
 * they run a client in the test process against a real gateway.
 */

/** Fast reconnects so a restarted gateway is found again quickly. */
export const FAST_RECONNECT = { initialMs: 100, maxMs: 1000 };

/**
 * Wraps a client's start function so every client a test starts is stopped
 * after that test, and every spawned process after the file. Call at the
 * top level of a test file.
 */
export function stoppedAfterEach<O, C extends { stop(): Promise<void> }>(
  start: (opts: O) => C,
): (opts: O) => C {
  const started: C[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((c) => c.stop()));
  });
  afterAll(() => killAllStarted());
  return (opts) => {
    const client = start(opts);
    started.push(client);
    return client;
  };
}

/** A `stallwatch gateway` process on the given addresses (port 0: free ports). */
export function startGateway(
  http = "127.0.0.1:0",
  grpc = "127.0.0.1:0",
  extra: string[] = [],
): Promise<StallwatchProcess> {
  return startStallwatch(["gateway", "--http", http, "--grpc", grpc, ...extra]);
}

/** Waits until `client.connected` is `want`. */
export async function waitConnected(
  client: { readonly connected: boolean },
  want: boolean,
  timeoutMs = 20_000,
): Promise<void> {
  await pollUntil(() => (client.connected === want ? true : undefined), {
    timeoutMs,
    what: `connected to be ${want}`,
  });
}

/** True when `stop()` settled within 10 s (it is bounded by 2 s; 10 s only guards against a hang). */
export async function stopsPromptly(client: { stop(): Promise<void> }): Promise<boolean> {
  return (
    (await withTimeout(
      client.stop().then(() => true),
      10_000,
      systemClock,
    )) ?? false
  );
}

/**
 * A gateway process for the enclosing `describe` block, started before its
 * tests and stopped after them; a test that restarts it replaces `current`.
 */
export function gatewayForDescribe(): { current: StallwatchProcess } {
  const holder: { current?: StallwatchProcess } = {};
  beforeAll(async () => {
    holder.current = await startGateway();
  });
  afterAll(async () => {
    await holder.current?.stop();
  });
  return holder as { current: StallwatchProcess };
}

/** Reconnect pacing for a peer that refuses: quick, so a retry is seen soon. */
export const QUICK_RETRY = { initialMs: 50, maxMs: 200 };

/**
 * What both clients do when nothing listens at `address`: retry, say why
 * (the refusal) once, then quietly, never report connected, stop promptly.
 * `start` must pass QUICK_RETRY as the backoff.
 */
export async function expectRefusedPeerHandled(
  peer: string,
  start: (address: HostPort, log: Logger) => { readonly connected: boolean; stop(): Promise<void> },
): Promise<void> {
  const { log, waitFor } = memoryLog();
  const client = start(parseHostPort(await unusedPort()), log);
  const why = await waitFor(
    (l) => l.msg === `could not connect to the ${peer}; retrying`,
    "a refused attempt",
  );
  expect(String(why.reason)).toMatch(/ECONNREFUSED|unavailable/i);
  await waitFor((l) => l.msg === `still cannot connect to the ${peer}`, "a retry");
  expect(client.connected).toBe(false);
  expect(await stopsPromptly(client)).toBe(true);
}
