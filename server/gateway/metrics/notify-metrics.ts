import { Counter, type Registry } from "prom-client";
import { closedSetCounter } from "./metric-kit.js";

const FAILURES = ["refused_target", "timeout", "network", "redirect", "status"] as const;
const DROPS = ["duplicate", "rate_limit", "queue_full"] as const;

/** Outgoing notifications (server/gateway/notifications), every series at 0 from the start. */
export class NotifyMetrics {
  private readonly sentTotal: Counter;
  private readonly retries: Counter;
  private readonly failures: Counter<"reason">;
  private readonly drops: Counter<"reason">;

  constructor(registry: Registry) {
    this.sentTotal = new Counter({
      name: "stallwatch_notifications_sent_total",
      help: "Notifications a webhook accepted (2xx), per webhook.",
      registers: [registry],
    });
    this.retries = new Counter({
      name: "stallwatch_notification_retries_total",
      help: "Notification attempts beyond the first.",
      registers: [registry],
    });
    this.failures = closedSetCounter(registry, {
      name: "stallwatch_notifications_failed_total",
      help: "Notifications given up after their retries, by the last reason (refused_target, timeout, network, redirect, status).",
      label: "reason",
      values: FAILURES,
    });
    this.drops = closedSetCounter(registry, {
      name: "stallwatch_notifications_dropped_total",
      help: "Notifications not sent: duplicate (same incident), rate_limit (global limit), queue_full (a webhook too far behind).",
      label: "reason",
      values: DROPS,
    });
  }

  sent(attempts: number): void {
    this.sentTotal.inc();
    if (attempts > 1) this.retries.inc(attempts - 1);
  }

  failed(reason: (typeof FAILURES)[number]): void {
    this.failures.inc({ reason });
  }

  dropped(reason: (typeof DROPS)[number]): void {
    this.drops.inc({ reason });
  }
}
