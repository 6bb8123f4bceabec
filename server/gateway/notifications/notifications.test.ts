import { createHmac } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../shared/clock/clock.js";
import { openStore, type Store } from "../store/store.js";
import { retention, silentLog as log } from "../store/testing/store-fixtures.js";
import { announcedWithoutStore, Incidents, mayNotify } from "./incidents.js";
import { jsonPayload, signature, slackPayload, type Notice } from "./payloads.js";
import { isForbiddenAddress, resolveTarget } from "./target-guard.js";
import { backoffMs } from "./webhook-sender.js";

const ev = (kind: string, toState = "", sessionId = "", workerId = "w1") => ({
  workerId,
  kind,
  toState,
  sessionId,
});

describe("Incidents (on a real SQLite store)", () => {
  const stores: Store[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });
  const storeAt = async (path = ":memory:") => {
    const s = await openStore({ path, log, retention, clock: systemClock });
    stores.push(s);
    return s;
  };

  it("says one thing per worker per incident, then recovered when every cause cleared", async () => {
    const incidents = new Incidents(await storeAt(), systemClock);
    expect(await incidents.judge(ev("liveness", "late"))).toBeUndefined();
    expect(await incidents.judge(ev("liveness", "unresponsive"))).toBe("unresponsive");
    expect(await incidents.judge(ev("liveness", "gone"))).toBe("duplicate");
    expect(await incidents.judge(ev("session_stalled", "", "s1"))).toBe("duplicate");
    expect(await incidents.judge(ev("liveness", "unresponsive", "", "w2"))).toBe("unresponsive");
    expect(await incidents.judge(ev("liveness", "healthy"))).toBeUndefined();
    expect(await incidents.judge(ev("session_cleared", "", "s1"))).toBe("recovered");
    expect(await incidents.judge(ev("liveness", "healthy"))).toBeUndefined();
    expect(await incidents.judge(ev("session_stalled", "", "s2"))).toBe("stalled");
    expect(await incidents.judge(ev("action"))).toBe("action");
  });

  it("closes an incident when the worker exits; a worker past the cache's cap is read back, not forgotten", async () => {
    const incidents = new Incidents(await storeAt(), systemClock, 1);
    expect(await incidents.judge(ev("session_stalled", "", "s1"))).toBe("stalled");
    expect(await incidents.judge(ev("liveness", "exited"))).toBe("recovered");
    expect(await incidents.judge(ev("liveness", "gone", "", "a"))).toBe("gone");
    expect(await incidents.judge(ev("liveness", "gone", "", "b"))).toBe("gone");
    expect(await incidents.judge(ev("liveness", "healthy", "", "a"))).toBe("recovered");
    expect(await incidents.judge(ev("liveness", "healthy", "", "b"))).toBe("recovered");
  });

  it("after a restart on the same database, an announced incident is not announced again, and recovers once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "incidents-"));
    const path = join(dir, "stallwatch.db");
    const first = await storeAt(path);
    const before = new Incidents(first, systemClock);
    expect(await before.judge(ev("session_stalled", "", "s1"))).toBe("stalled");
    await first.close();
    stores.splice(stores.indexOf(first), 1);

    const after = new Incidents(await storeAt(path), systemClock);
    // The restarted gateway judges the still-stalled session again: a duplicate.
    expect(await after.judge(ev("session_stalled", "", "s1"))).toBe("duplicate");
    expect(await after.judge(ev("session_cleared", "", "s1"))).toBe("recovered");
    expect(await after.judge(ev("session_cleared", "", "s1"))).toBeUndefined();
  });

  it("of two gateways sharing a store (a takeover), exactly one announces the incident and one its recovery", async () => {
    const shared = await storeAt();
    const a = new Incidents(shared, systemClock);
    const b = new Incidents(shared, systemClock);
    const raised = await Promise.all([
      a.judge(ev("liveness", "unresponsive")),
      b.judge(ev("liveness", "unresponsive")),
    ]);
    expect(raised.sort()).toEqual(["duplicate", "unresponsive"]);
    const cleared = await Promise.all([
      a.judge(ev("liveness", "healthy")),
      b.judge(ev("liveness", "healthy")),
    ]);
    expect(cleared.filter((v) => v === "recovered")).toHaveLength(1);
  });

  it("without its store, sends bad news as new and nothing else", () => {
    expect(announcedWithoutStore(ev("liveness", "gone"))).toBe("gone");
    expect(announcedWithoutStore(ev("session_stalled", "", "s1"))).toBe("stalled");
    expect(announcedWithoutStore(ev("liveness", "healthy"))).toBeUndefined();
    expect(announcedWithoutStore(ev("action"))).toBe("action");
  });
});

describe("mayNotify", () => {
  it("lets through only events that can open, close or report something", () => {
    for (const e of [
      ev("action"),
      ev("liveness", "gone"),
      ev("liveness", "unresponsive"),
      ev("liveness", "healthy"),
      ev("liveness", "exited"),
      ev("session_stalled", "", "s1"),
      ev("session_cleared", "", "s1"),
    ])
      expect(mayNotify(e), `${e.kind} ${e.toState}`).toBe(true);
    for (const e of [ev("liveness", "draining"), ev("session_started", "", "s1"), ev("dump")])
      expect(mayNotify(e), `${e.kind} ${e.toState}`).toBe(false);
  });
});

describe("target guard", () => {
  it("refuses loopback, link-local, unspecified and metadata addresses, in any spelling", () => {
    for (const ip of [
      "127.0.0.1",
      "127.8.9.10",
      "169.254.169.254",
      "0.0.0.0",
      "100.100.100.200",
      "::1",
      "::",
      "fe80::1",
      "fd00:ec2::254",
      "::ffff:127.0.0.1",
      "::ffff:169.254.169.254",
      "not-an-ip",
    ])
      expect(isForbiddenAddress(ip), ip).toBe(true);
    for (const ip of ["93.184.216.34", "10.0.0.5", "2606:2800:220:1::1"])
      expect(isForbiddenAddress(ip), ip).toBe(false);
  });

  it("resolves names and checks what they resolve to; allowed when asked", async () => {
    await expect(resolveTarget(new URL("http://localhost:9/x"), false)).rejects.toThrow(
      /loopback, link-local or metadata/,
    );
    await expect(resolveTarget(new URL("http://[::1]:9/x"), false)).rejects.toThrow(/::1/);
    expect(await resolveTarget(new URL("http://127.0.0.1:9/x"), true)).toEqual({
      address: "127.0.0.1",
      family: 4,
    });
  });
});

describe("payloads", () => {
  const notice: Notice = {
    kind: "stalled",
    workerId: "w<1>",
    summary: "w<1> session s1 stalled: no progress for 5m",
    atMs: 1_700_000_000_000,
    dashboardUrl: "https://sw/workers/w%3C1%3E",
    snapshotUrl: "https://sw/snapshots/abc/workers/w%3C1%3E",
  };

  it("Slack: text and blocks, escaped, linking the frozen snapshot", () => {
    const body = JSON.parse(slackPayload(notice)) as { text: string; blocks: unknown[] };
    expect(body.text).toBe("Session stalled: w&lt;1&gt; session s1 stalled: no progress for 5m");
    expect(JSON.stringify(body.blocks)).toContain(
      "<https://sw/snapshots/abc/workers/w%3C1%3E|frozen snapshot>",
    );
  });

  it("JSON: every field, and a signature the receiver can check", () => {
    const body = jsonPayload({
      ...notice,
      snapshotUrl: undefined,
      snapshotMissing: "too many snapshots",
    });
    expect(JSON.parse(body)).toMatchObject({
      kind: "stalled",
      snapshotUrl: null,
      snapshotMissing: "too many snapshots",
    });
    const sig = signature("s3cret-s3cret-s3cret", body, 1_700_000_000_999);
    const mac = createHmac("sha256", "s3cret-s3cret-s3cret")
      .update(`1700000000.${body}`)
      .digest("hex");
    expect(sig).toBe(`t=1700000000,v1=${mac}`);
  });

  it("backs off doubling, capped", () => {
    const policy = { attempts: 6, firstBackoffMs: 1000, maxBackoffMs: 5000 };
    expect([0, 1, 2, 3, 4].map((a) => backoffMs(policy, a))).toEqual([
      1000, 2000, 4000, 5000, 5000,
    ]);
  });
});
