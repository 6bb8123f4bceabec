import { create } from "@bufbuild/protobuf";
import { createHandlerContext } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  FleetService,
  FleetTotalsSchema,
  Liveness,
  SessionViewSchema,
  WatchFleetRequestSchema,
  WatchStalledSessionsRequestSchema,
  WatchWorkerRequestSchema,
  type SessionView,
  type WatchFleetResponse,
  type WatchStalledSessionsResponse,
  type WatchWorkerResponse,
} from "../../../gen/stallwatch/v1/fleet_pb.js";
import { FakeClock } from "../../testing/fake-clock.js";
import { EventLog } from "../events/event-log.js";
import { Fleet } from "../fleet/fleet.js";
import { createFleetService } from "./fleet-service.js";
import { systemClock } from "../../shared/clock/clock.js";

function setup() {
  const clock = new FakeClock(1_000_000);
  const events = new EventLog(systemClock);
  const fleet = new Fleet({ clock, events, publishIntervalMs: 250 });
  let watching = 0;
  const stalled: SessionView[] = [];
  const service = createFleetService(
    {
      fleet,
      events,
      clock,
      collector: {
        totals: () => create(FleetTotalsSchema),
        watch: () => {
          watching += 1;
          return () => (watching -= 1);
        },
        collectNow: () => Promise.resolve(undefined),
        stalledSessions: () => [...stalled],
      },
    },
    { keepaliveMs: 5000, workerRefreshMs: 1000, maxQueuedDeltas: 4 },
  );
  const stop = new AbortController();
  const context = (method: (typeof FleetService.method)[keyof typeof FleetService.method]) =>
    createHandlerContext({
      service: FleetService,
      method,
      protocolName: "connect",
      requestMethod: "POST",
      url: "http://localhost/",
      requestSignal: stop.signal,
    });
  return { clock, fleet, service, stop, context, stalled, watching: () => watching };
}

/**
 * Pulls the next message the stream yields, advancing the fake clock until it
 * comes. The service builds every message with `create`, so what it yields
 * is the full message type, not just its init shape.
 */
async function next<T>(stream: AsyncIterator<unknown>, clock: FakeClock, stepMs = 50): Promise<T> {
  let got: IteratorResult<unknown> | undefined;
  const pending = stream.next().then((r) => (got = r));
  await clock.advance(0);
  for (let waited = 0; !got && waited < 60_000; waited += stepMs) await clock.advance(stepMs);
  await pending;
  if (!got || got.done) throw new Error("the stream ended");
  return got.value as T;
}

describe("FleetService with a fake clock", () => {
  it("watchFleet: full state, then one coalesced delta per publish interval, keepalives when quiet", async () => {
    const { clock, fleet, service, stop, context } = setup();
    const a = fleet.enroll("a", "spark", "a:1");
    const watched = service.watchFleet(
      create(WatchFleetRequestSchema),
      context(FleetService.method.watchFleet),
    );
    const stream = watched[Symbol.asyncIterator]();
    const first = await next<WatchFleetResponse>(stream, clock);
    expect(first.fullState).toBe(true);
    expect(first.workers.map((w) => w.id)).toEqual(["a"]);

    // Three changes to one worker and a new one within one interval: one message.
    fleet.beatAnswered(a, clock.now());
    fleet.beatMissed(a, clock.now(), "deadline");
    const b = fleet.enroll("b", "beam", "b:1");
    fleet.beatAnswered(b, clock.now());
    const delta = await next<WatchFleetResponse>(stream, clock);
    expect(delta.fullState).toBe(false);
    expect(delta.workers.map((w) => [w.id, w.liveness])).toEqual([
      ["a", Liveness.LATE],
      ["b", Liveness.HEALTHY],
    ]);

    fleet.forget("b");
    const removal = await next<WatchFleetResponse>(stream, clock);
    expect(removal.removedWorkerIds).toEqual(["b"]);

    // Nothing changes: an empty message every keepalive, so the client can tell quiet from cut.
    const before = clock.now();
    const keepalive = await next<WatchFleetResponse>(stream, clock, 100);
    expect(keepalive.workers).toEqual([]);
    expect(clock.now() - before).toBeGreaterThanOrEqual(5000);
    stop.abort();
    expect((await stream.next()).done).toBe(true);
  });

  it("watchWorker: re-sends the detail every second and counts itself as a watcher until it ends", async () => {
    const { clock, fleet, service, stop, context, watching } = setup();
    fleet.enroll("a", "spark", "a:1");
    const watched = service.watchWorker(
      create(WatchWorkerRequestSchema, { workerId: "a", windowMinutes: 1 }),
      context(FleetService.method.watchWorker),
    );
    const stream = watched[Symbol.asyncIterator]();
    const at: number[] = [];
    for (let i = 0; i < 3; i++) {
      const message = await next<WatchWorkerResponse>(stream, clock, 100);
      expect(message.detail?.worker?.id).toBe("a");
      at.push(Number(message.asOfMs));
    }
    expect(at.map((t) => t - (at[0] ?? 0))).toEqual([0, 1000, 2000]);
    expect(watching()).toBe(1);
    stop.abort();
    await stream.next();
    expect(watching()).toBe(0);
  });

  it("watchStalledSessions: the whole list every second, as it is then, until the stream ends (issue 20)", async () => {
    const { clock, service, stop, context, stalled } = setup();
    const watched = service.watchStalledSessions(
      create(WatchStalledSessionsRequestSchema),
      context(FleetService.method.watchStalledSessions),
    );
    const stream = watched[Symbol.asyncIterator]();
    const first = await next<WatchStalledSessionsResponse>(stream, clock, 100);
    expect(first.sessions).toEqual([]);
    stalled.push(
      create(SessionViewSchema, {
        workerId: "a",
        stalled: true,
        stallReason: "in PROCESSING for 92 s",
      }),
    );
    const second = await next<WatchStalledSessionsResponse>(stream, clock, 100);
    expect(second.sessions.map((v) => [v.workerId, v.stallReason])).toEqual([
      ["a", "in PROCESSING for 92 s"],
    ]);
    expect(Number(second.asOfMs) - Number(first.asOfMs)).toBe(1000);
    stop.abort();
    expect((await stream.next()).done).toBe(true);
  });
});
