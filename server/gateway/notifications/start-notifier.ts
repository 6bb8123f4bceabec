import { ConnectError } from "@connectrpc/connect";
import type { Clock } from "../../shared/clock/clock.js";
import type { Logger } from "../../shared/logging/logger.js";
import type { EventLog } from "../events/event-log.js";
import type { NotifyMetrics } from "../metrics/notify-metrics.js";
import type { IncidentStore } from "../store/incident-store.js";
import { Notifier, shownTarget, type FrozenSnapshot, type WebhookTarget } from "./notifier.js";

/** What `--notify-*` configure (config/notify-settings.ts). */
export interface NotifyOptions {
  webhooks: readonly WebhookTarget[];
  secret?: string | undefined;
  allowPrivate: boolean;
  perMinute: number;
  timeoutMs: number;
  /** Retries (default 4 attempts, 1 s doubling to at most 30 s). */
  retry?: { attempts: number; firstBackoffMs: number; maxBackoffMs: number };
}

/** The notifier's rate-limit key in the snapshot budget (shared with API callers' overall budget). */
const SNAPSHOT_KEY = "notifier";

/**
 * Starts sending notifications when webhooks are configured; returns how to
 * stop (a no-op without webhooks).
 */
export function startNotifier(
  opts: NotifyOptions | undefined,
  parts: {
    events: EventLog;
    incidents: IncidentStore;
    takeSnapshot: (
      who: { actor: string; key: string },
      request: { workerId: string; note: string },
    ) => Promise<{ id: string }>;
    publicUrl: () => string;
    metrics: NotifyMetrics;
    clock: Clock;
    log: Logger;
  },
): () => void {
  if (!opts || opts.webhooks.length === 0) return () => undefined;
  const log = parts.log.child({ part: "notifier" });
  log.info(
    { webhooks: opts.webhooks.map((w) => `${w.format}=${shownTarget(w.url)}`) },
    "notifications on",
  );
  const notifier = new Notifier({
    webhooks: opts.webhooks,
    ...(opts.secret ? { secret: opts.secret } : {}),
    allowPrivate: opts.allowPrivate,
    publicUrl: parts.publicUrl,
    events: parts.events,
    incidents: parts.incidents,
    takeSnapshot: async (workerId, note): Promise<FrozenSnapshot> => {
      try {
        return await parts.takeSnapshot(
          { actor: "notifier", key: SNAPSHOT_KEY },
          { workerId, note },
        );
      } catch (err) {
        // A worker already forgotten, or the snapshot budget spent: the message goes without.
        return { refused: ConnectError.from(err).rawMessage };
      }
    },
    perMinute: opts.perMinute,
    retry: opts.retry ?? { attempts: 4, firstBackoffMs: 1000, maxBackoffMs: 30_000 },
    timeoutMs: opts.timeoutMs,
    queueCap: 100,
    metrics: parts.metrics,
    clock: parts.clock,
    log,
  });
  return () => notifier.close();
}
