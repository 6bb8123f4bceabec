import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClients } from "../../testing/api-clients.js";
import { pollUntil } from "../../testing/poll.js";
import { Liveness } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { fleetClient, waitForLiveness } from "../../testing/fleet-client.js";
import { freshDbPath, killAllStarted } from "../../testing/spawn-stallwatch.js";
import { startTestGateway, type TestGateway } from "../../testing/test-gateway.js";
import { startHealthyAgent, startTestWorker } from "../../testing/test-worker.js";
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

  it("a restarted gateway does not announce an incident again, and announces its recovery once", async () => {
    const receiver = await startWebhookReceiver("ok");
    receivers.restart = receiver;
    const db = freshDbPath();
    // A static worker, probed over Manage: the fleet knows it by its address.
    const worker = await startTestWorker({ id: "notify-restart" });
    const start = (addresses?: { http: string; grpc: string }) =>
      startTestGateway({
        ...addresses,
        db,
        workers: [worker.address],
        flags: { "notify-webhook": [receiver.url], "interval-ms": 300 },
        env: { STALLWATCH_NOTIFY_SECRET: SECRET, STALLWATCH_NOTIFY_ALLOW_PRIVATE: "true" },
      });
    const of = (kind: string) =>
      receiver.received.filter((r) => r.body.includes(`"kind":"${kind}"`));
    let restarting = await start();
    const { http, grpc } = restarting;
    await waitForLiveness(fleetClient(http), worker.address, Liveness.HEALTHY, 15_000);
    // Frozen, not dead: Manage stops answering, so it turns unresponsive.
    worker.child.kill("SIGSTOP");
    try {
      await pollUntil(() => of("unresponsive")[0], {
        timeoutMs: 20_000,
        what: "the first message",
      });
      await restarting.stop();
      restarting = await start({ http, grpc });
      // The new process sees the same worker unresponsive all over again.
      await waitForLiveness(fleetClient(http), worker.address, Liveness.UNRESPONSIVE, 20_000);
      worker.child.kill("SIGCONT");
      await pollUntil(() => of("recovered")[0], { timeoutMs: 20_000, what: "the recovery" });
      // Nothing more is on its way: the restarted gateway judged it a duplicate.
      const metrics = await (await fetch(`http://${http}/metrics`)).text();
      expect(metrics).toMatch(/stallwatch_notifications_dropped_total\{reason="duplicate"\} [1-9]/);
      expect(of("unresponsive")).toHaveLength(1);
      expect(of("recovered")).toHaveLength(1);
    } finally {
      worker.child.kill("SIGCONT");
      await restarting.stop();
    }
  }, 120_000);
});
