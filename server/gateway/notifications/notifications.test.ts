import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Incidents } from "./incidents.js";
import { jsonPayload, signature, slackPayload, type Notice } from "./payloads.js";
import { isForbiddenAddress, resolveTarget } from "./target-guard.js";
import { backoffMs } from "./webhook-sender.js";

const ev = (kind: string, toState = "", sessionId = "", workerId = "w1") => ({
  workerId,
  kind,
  toState,
  sessionId,
});

describe("Incidents", () => {
  it("says one thing per worker per incident, then recovered when every cause cleared", () => {
    const incidents = new Incidents();
    expect(incidents.judge(ev("liveness", "late"))).toBeUndefined();
    expect(incidents.judge(ev("liveness", "unresponsive"))).toBe("unresponsive");
    expect(incidents.judge(ev("liveness", "gone"))).toBe("duplicate");
    expect(incidents.judge(ev("session_stalled", "", "s1"))).toBe("duplicate");
    expect(incidents.judge(ev("liveness", "unresponsive", "", "w2"))).toBe("unresponsive");
    expect(incidents.judge(ev("liveness", "healthy"))).toBeUndefined();
    expect(incidents.judge(ev("session_cleared", "", "s1"))).toBe("recovered");
    expect(incidents.judge(ev("liveness", "healthy"))).toBeUndefined();
    expect(incidents.judge(ev("session_stalled", "", "s2"))).toBe("stalled");
    expect(incidents.judge(ev("action"))).toBe("action");
  });

  it("closes an incident when the worker exits, and forgets the oldest past its cap", () => {
    const incidents = new Incidents(1);
    expect(incidents.judge(ev("session_stalled", "", "s1"))).toBe("stalled");
    expect(incidents.judge(ev("liveness", "exited"))).toBe("recovered");
    incidents.judge(ev("liveness", "gone", "", "a"));
    incidents.judge(ev("liveness", "gone", "", "b"));
    expect(incidents.judge(ev("liveness", "healthy", "", "a"))).toBeUndefined();
    expect(incidents.judge(ev("liveness", "healthy", "", "b"))).toBe("recovered");
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
