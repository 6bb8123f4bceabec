import { resolveToken } from "../../shared/cli/secret-flags.js";
import { httpUrl } from "./link-settings.js";
import type { SettingReader } from "./setting-reader.js";

/** Outgoing notifications (server/gateway/notifications), spread into the gateway's settings table. */
export const NOTIFY_SETTINGS = {
  "notify-webhook": { env: "STALLWATCH_NOTIFY_WEBHOOKS", kind: "list" },
  "notify-secret": { env: "STALLWATCH_NOTIFY_SECRET", kind: "string" },
  "notify-secret-file": { env: "STALLWATCH_NOTIFY_SECRET_FILE", kind: "string" },
  "notify-allow-private": {
    env: "STALLWATCH_NOTIFY_ALLOW_PRIVATE",
    kind: "bool",
    fallback: "false",
  },
  "notify-per-minute": {
    env: "STALLWATCH_NOTIFY_PER_MINUTE",
    kind: "count",
    fallback: "30",
    min: 1,
  },
  "notify-timeout-ms": {
    env: "STALLWATCH_NOTIFY_TIMEOUT_MS",
    kind: "ms",
    fallback: "5000",
    min: 100,
  },
} as const;

export interface NotifySettings {
  notify: {
    webhooks: { url: URL; format: "slack" | "json" }[];
    secret: string | undefined;
    allowPrivate: boolean;
    perMinute: number;
    timeoutMs: number;
  };
}

/**
 * `--notify-webhook [slack=|json=]URL` (json by default); a JSON webhook
 * needs `--notify-secret`/`-file` (or STALLWATCH_NOTIFY_SECRET): its
 * messages are signed, and an unsigned one could be forged by anyone who
 * finds the receiver.
 */
export function loadNotifySettings(
  read: Pick<SettingReader<keyof typeof NOTIFY_SETTINGS>, "raw" | "number">,
  problems: string[],
  warnings: string[],
): NotifySettings {
  const { values, from } = read.raw("notify-webhook");
  const webhooks: NotifySettings["notify"]["webhooks"] = [];
  for (const value of values) {
    const [, prefix, rest = ""] = /^(slack|json)=(.*)$/s.exec(value) ?? [undefined, "json", value];
    const url = httpUrl(rest);
    if (!url || url.username || url.password) {
      problems.push(
        `${from}: expected [slack=|json=]http(s)://host/path (no credentials in the URL)`,
      );
      continue;
    }
    webhooks.push({ url, format: prefix === "slack" ? "slack" : "json" });
  }
  const secret = resolveToken(
    "notify",
    read.raw("notify-secret"),
    read.raw("notify-secret-file"),
    problems,
    warnings,
  );
  if (webhooks.some((w) => w.format === "json") && secret === undefined)
    problems.push(
      "a JSON --notify-webhook needs --notify-secret-file (or STALLWATCH_NOTIFY_SECRET) to sign its messages",
    );
  const allow = read.raw("notify-allow-private");
  const allowPrivate = allow.values[0] ?? "false";
  if (!/^(true|false|1|0)$/.test(allowPrivate))
    problems.push(`${allow.from}: expected true or false, got "${allowPrivate}"`);
  return {
    notify: {
      webhooks,
      secret,
      allowPrivate: allowPrivate === "true" || allowPrivate === "1",
      perMinute: read.number("notify-per-minute"),
      timeoutMs: read.number("notify-timeout-ms"),
    },
  };
}
