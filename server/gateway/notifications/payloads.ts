import { createHmac } from "node:crypto";

/** What a notification is about. */
export type NoticeKind = "unresponsive" | "gone" | "stalled" | "action" | "recovered";

/** One notification, before it is shaped for a receiver. */
export interface Notice {
  kind: NoticeKind;
  workerId: string;
  /** The paste-ready one-line summary (what the event log says). */
  summary: string;
  atMs: number;
  /** The worker in the dashboard (live). */
  dashboardUrl: string;
  /** The snapshot frozen when this was sent; absent when the snapshot budget refused it. */
  snapshotUrl?: string;
  /** Why there is no snapshot, when there is none. */
  snapshotMissing?: string;
}

const TITLE: Record<NoticeKind, string> = {
  unresponsive: "Worker unresponsive",
  gone: "Worker gone",
  stalled: "Session stalled",
  action: "Action ended",
  recovered: "Recovered",
};

/** Slack's `&`, `<`, `>` escaping for mrkdwn text. */
function slackEscape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** Slack-compatible (incoming webhook): `text` for notifications, blocks for the message. */
export function slackPayload(n: Notice): string {
  const snapshot = n.snapshotUrl
    ? `<${n.snapshotUrl}|frozen snapshot>`
    : `no snapshot (${slackEscape(n.snapshotMissing ?? "not taken")})`;
  const text = `${TITLE[n.kind]}: ${n.summary}`;
  return JSON.stringify({
    text: slackEscape(text),
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `*${slackEscape(TITLE[n.kind])}*` } },
      { type: "section", text: { type: "mrkdwn", text: "```" + slackEscape(n.summary) + "```" } },
      {
        type: "context",
        elements: [
          {
            type: "mrkdwn",
            text: `${snapshot} · <${n.dashboardUrl}|live> · ${new Date(n.atMs).toISOString()}`,
          },
        ],
      },
    ],
  });
}

/** Generic JSON: every field of the notice, versioned. */
export function jsonPayload(n: Notice): string {
  return JSON.stringify({
    version: 1,
    kind: n.kind,
    workerId: n.workerId,
    summary: n.summary,
    at: new Date(n.atMs).toISOString(),
    dashboardUrl: n.dashboardUrl,
    snapshotUrl: n.snapshotUrl ?? null,
    ...(n.snapshotMissing ? { snapshotMissing: n.snapshotMissing } : {}),
  });
}

/** Header carrying the signature of a generic JSON notification. */
export const SIGNATURE_HEADER = "x-stallwatch-signature";

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the receiver
 * recomputes it with the shared secret and refuses old timestamps (replays).
 */
export function signature(secret: string, body: string, nowMs: number): string {
  const t = Math.floor(nowMs / 1000);
  const mac = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
  return `t=${t},v1=${mac}`;
}
