import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { HostPort } from "../../shared/net/host-port.js";
import { FakeClock } from "../../testing/fake-clock.js";
import { createDnsTargets, refreshStaticTargets, StaticAssignment } from "./static-workers.js";
import { systemClock } from "../../shared/clock/clock.js";

const log = pino({ level: "silent" });

function fakeProber() {
  const probing = new Set<string>();
  const probedNow: string[] = [];
  return {
    probing,
    probedNow,
    addTarget: (t: HostPort) => {
      probing.add(`${t.host}:${t.port}`);
      return undefined as never; // the assignment ignores the worker it returns
    },
    removeTarget: (id: string) => void probing.delete(id),
    probeNow: (id: string) => void probedNow.push(id),
  };
}

const targets = Array.from({ length: 90 }, (_, i) => ({ host: "127.0.0.1", port: 10_000 + i }));

describe("static worker assignment", () => {
  it("splits the targets over the members, and takes over a departed member's share at once", () => {
    let members = ["a", "b", "c"];
    const probers = { a: fakeProber(), b: fakeProber(), c: fakeProber() };
    const assignments = Object.entries(probers).map(
      ([id, prober]) => new StaticAssignment({ prober, selfId: id, members: () => members, log }),
    );
    for (const a of assignments) a.setTargets(targets);
    const sizes = Object.values(probers).map((p) => p.probing.size);
    expect(sizes.reduce((x, y) => x + y)).toBe(90);
    expect(Math.min(...sizes)).toBeGreaterThan(10);
    expect(probers.a.probedNow).toEqual([]);

    const bShare = new Set(probers.b.probing);
    members = ["a", "c"];
    assignments[0]?.rebalance();
    assignments[2]?.rebalance();
    expect(probers.a.probing.size + probers.c.probing.size).toBe(90);
    expect(new Set([...probers.a.probedNow, ...probers.c.probedNow])).toEqual(bShare);
    // Nobody probes a worker twice.
    for (const id of probers.a.probing) expect(probers.c.probing.has(id)).toBe(false);
  });

  it("spreads targets that arrive after start (config, DNS) instead of probing them all now", () => {
    const prober = fakeProber();
    const assignment = new StaticAssignment({ prober, selfId: "a", members: () => ["a"], log });
    assignment.setTargets([]); // the gateway starts before the command hands it its targets
    assignment.setTargets(targets);
    assignment.setTargets([...targets, { host: "127.0.0.1", port: 9_999 }]);
    expect(prober.probing.size).toBe(91);
    expect(prober.probedNow).toEqual([]);
  });

  it("probes nothing while its own lease has lapsed", () => {
    let members = ["a"];
    const prober = fakeProber();
    const assignment = new StaticAssignment({ prober, selfId: "a", members: () => members, log });
    assignment.setTargets(targets);
    expect(prober.probing.size).toBe(90);
    members = [];
    assignment.rebalance();
    expect(prober.probing.size).toBe(0);
    expect(assignment.owned.size).toBe(0);
  });
});

describe("worker DNS names", () => {
  it("expands a name to one target per address, and keeps the last answer when DNS fails", async () => {
    let answer: string[] | Error = ["10.0.0.1", "10.0.0.2", "10.0.0.1"];
    const resolve = (host: string) => {
      expect(host).toBe("workers.example");
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    };
    const next = createDnsTargets([{ host: "workers.example", port: 7070 }], log, {
      resolve,
      clock: systemClock,
    });
    expect(await next()).toEqual([
      { host: "10.0.0.1", port: 7070 },
      { host: "10.0.0.2", port: 7070 },
    ]);
    answer = new Error("SERVFAIL");
    expect(await next()).toHaveLength(2);
    answer = ["10.0.0.3"];
    expect(await next()).toEqual([{ host: "10.0.0.3", port: 7070 }]);
  });

  it("gives up on a resolver that never answers, within its deadline", async () => {
    const next = createDnsTargets([{ host: "slow", port: 1 }], log, {
      clock: systemClock,
      resolve: () => new Promise(() => {}),
      timeoutMs: 50,
    });
    expect(await next()).toEqual([]);
  });
});

describe("static targets re-resolved on a clock", () => {
  it("resolves at start, again every interval after the last answer, and stops when told", async () => {
    const clock = new FakeClock();
    const answers = [["10.0.0.1"], ["10.0.0.1", "10.0.0.2"], ["10.0.0.3"]];
    let lookups = 0;
    const resolve = () => Promise.resolve(answers[Math.min(lookups++, answers.length - 1)] ?? []);
    const rounds: string[][] = [];
    const assignment = {
      setTargets: (t: readonly HostPort[]) => void rounds.push(t.map((x) => `${x.host}:${x.port}`)),
    };
    const stop = refreshStaticTargets(assignment, {
      fixed: [{ host: "127.0.0.1", port: 9 }],
      dnsNames: [{ host: "workers.example", port: 7070 }],
      intervalMs: 30_000,
      log,
      resolve,
      clock,
    });
    await clock.advance(0);
    // The fixed targets at once, then with what the name resolved to.
    expect(rounds).toEqual([["127.0.0.1:9"], ["127.0.0.1:9", "10.0.0.1:7070"]]);
    await clock.advance(29_999);
    expect(lookups).toBe(1);
    await clock.advance(1);
    expect(rounds.at(-1)).toEqual(["127.0.0.1:9", "10.0.0.1:7070", "10.0.0.2:7070"]);
    await clock.advance(30_000);
    expect(rounds.at(-1)).toEqual(["127.0.0.1:9", "10.0.0.3:7070"]);
    stop();
    await clock.advance(120_000);
    expect(lookups).toBe(3);
    expect(clock.pendingTimers).toBe(0);
  });

  it("bounds a resolver that never answers by its deadline, on the same clock", async () => {
    const clock = new FakeClock();
    const next = createDnsTargets([{ host: "slow", port: 1 }], log, {
      resolve: () => new Promise(() => {}),
      timeoutMs: 5_000,
      clock,
    });
    let answer: HostPort[] | undefined;
    void next().then((a) => (answer = a));
    await clock.advance(4_999);
    expect(answer).toBeUndefined();
    await clock.advance(1);
    expect(answer).toEqual([]);
  });

  it("sets the fixed targets only, and no timer, without DNS names", async () => {
    const clock = new FakeClock();
    const rounds: number[] = [];
    refreshStaticTargets(
      { setTargets: (t) => void rounds.push(t.length) },
      { fixed: targets, dnsNames: [], intervalMs: 1000, log, clock },
    );
    await clock.advance(10_000);
    expect(rounds).toEqual([90]);
    expect(clock.pendingTimers).toBe(0);
  });
});
