import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClients } from "../../testing/api-clients.js";
import { pollUntil } from "../../testing/poll.js";
import { killAllStarted } from "../../testing/spawn-stallwatch.js";
import { startTestGateway, type TestGateway } from "../../testing/test-gateway.js";
import { startHealthyAgent } from "../../testing/test-worker.js";
import { startWebhookReceiver, type WebhookReceiver } from "../../testing/webhook-receiver.js";

const SECRET = "notify-secret-0123456789";
// Webhook paths are secrets (Slack's are): they must never reach a log line.
const PATH = "/hooks/T0SECRETPATH";

function verify(signature: string, body: string): boolean {
  const [, t = "", v1 = ""] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature) ?? [];
  return createHmac("sha256", SECRET).update(`${t}.${body}`).digest("hex") === v1;
}

describe("notifications to real HTTP receivers", () => {
  const receivers: Record<string, WebhookReceiver> = {};
  let gateway: TestGateway;

  beforeAll(async () => {
    for (const mode of ["ok", "hang", "fail", "redirect"] as const)
      receivers[mode] = await startWebhookReceiver(mode);
    receivers.slack = await startWebhookReceiver("ok");
    receivers.down = await startWebhookReceiver("ok");
    receivers.down.stop();
    const url = (name: string) => `${receivers[name]?.url ?? ""}${PATH}`;
    gateway = await startTestGateway({
      flags: {
        "notify-webhook": [
          url("ok"),
          `slack=${url("slack")}`,
          url("hang"),
          url("fail"),
          url("redirect"),
          url("down"),
        ],
        "notify-timeout-ms": 1000,
        "public-url": "https://stallwatch.example/ops",
      },
      // Receivers run on loopback: allowed here on purpose.
      env: { STALLWATCH_NOTIFY_SECRET: SECRET, STALLWATCH_NOTIFY_ALLOW_PRIVATE: "true" },
    });
  }, 60_000);
  afterAll(() => {
    for (const r of Object.values(receivers)) r.stop();
    killAllStarted();
  });

  it("sends one message per incident and a recovery, with a frozen snapshot, while bad receivers fail alone", async () => {
    const worker = await startHealthyAgent(gateway, "notify-1");
    worker.child.kill("SIGKILL");
    const ok = receivers.ok?.received ?? [];
    const gone = await pollUntil(() => ok.find((r) => r.body.includes('"kind":"gone"')), {
      timeoutMs: 20_000,
      what: "the gone message",
    });
    // The gateway answers while the hanging receiver holds its request.
    expect((await fetch(`http://${gateway.http}/healthz`)).status).toBe(200);

    const message = JSON.parse(gone.body) as Record<string, string>;
    expect(verify(gone.headers["x-stallwatch-signature"] ?? "", gone.body)).toBe(true);
    expect(message.workerId).toBe("notify-1");
    expect(message.summary).toMatch(/^notify-1 gone/);
    expect(message.dashboardUrl).toBe("https://stallwatch.example/ops/workers/notify-1");
    const [, snapshotId = ""] =
      /^https:\/\/stallwatch\.example\/ops\/snapshots\/([\w-]+)\/workers\/notify-1$/.exec(
        message.snapshotUrl ?? "",
      ) ?? [];
    // The permalink names a snapshot the gateway really stored, with the worker in it.
    const { snapshot } = await apiClients(gateway.http).snapshots.getSnapshot({
      id: snapshotId,
      workerId: "notify-1",
    });
    expect(snapshot?.details.length).toBe(1);

    const slack = await pollUntil(() => receivers.slack?.received[0], {
      what: "the Slack message",
    });
    const slackBody = JSON.parse(slack.body) as { text: string; blocks: unknown[] };
    expect(slackBody.text).toMatch(/^Worker gone: notify-1 gone/);
    expect(JSON.stringify(slackBody.blocks)).toContain(
      `/snapshots/${snapshotId}/workers/notify-1|`,
    );

    // Back: a recovery, and still one gone message for the incident.
    await startHealthyAgent(gateway, "notify-1");
    await pollUntil(() => ok.find((r) => r.body.includes('"kind":"recovered"')), {
      timeoutMs: 20_000,
      what: "the recovery message",
    });
    expect(ok.filter((r) => r.body.includes('"kind":"gone"'))).toHaveLength(1);

    // The 500 receiver was retried; the redirect was not followed; each failure counted.
    const metrics = await pollUntil(
      async () => {
        const text = await (await fetch(`http://${gateway.http}/metrics`)).text();
        const count = (reason: string) =>
          Number(
            new RegExp(`notifications_failed_total\\{reason="${reason}"\\} (\\d+)`).exec(text)?.[1],
          );
        return ["timeout", "status", "redirect", "network"].every((r) => count(r) >= 1)
          ? text
          : undefined;
      },
      { timeoutMs: 40_000, what: "every failure counted" },
    );
    expect(metrics).toMatch(/stallwatch_notifications_sent_total [1-9]/);
    expect(receivers.fail?.received.length).toBeGreaterThan(1);
    expect(receivers.redirect?.received.filter((r) => r.body.includes('"gone"'))).toHaveLength(1);
    const failures = gateway.logs.filter((l) => l.msg === "notification failed");
    expect(failures.length).toBeGreaterThan(0);
    expect(JSON.stringify(gateway.logs)).not.toContain("T0SECRETPATH");
    expect(JSON.stringify(gateway.logs)).not.toContain(SECRET);
    const { events } = await apiClients(gateway.http).fleet.listEvents({ workerId: "notify-1" });
    expect(events.some((e) => e.kind === "notification" && /failed/.test(e.summary))).toBe(true);
  }, 120_000);
});
