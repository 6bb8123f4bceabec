import type { FleetEvent } from "../../../gen/stallwatch/v1/fleet_pb.js";
import type { Clock } from "../../shared/clock/clock.js";
import type { Logger } from "../../shared/logging/logger.js";
import type { EventLog } from "../events/event-log.js";
import type { NotifyMetrics } from "../metrics/notify-metrics.js";
import type { IncidentStore } from "../store/incident-store.js";
import { announcedWithoutStore, Incidents, mayNotify } from "./incidents.js";
import { jsonPayload, signature, slackPayload, SIGNATURE_HEADER, type Notice } from "./payloads.js";
import { NotifyRate } from "./notify-rate.js";
import { DeliveryError, deliver, postOnce, type RetryPolicy } from "./webhook-sender.js";

/** One `--notify-webhook`. */
export interface WebhookTarget {
  url: URL;
  format: "slack" | "json";
}

/** A snapshot frozen for a notification, or why there is none (the snapshot budget). */
export type FrozenSnapshot = { id: string } | { refused: string };

export interface NotifierOptions {
  webhooks: readonly WebhookTarget[];
  /** HMAC key of generic JSON notifications (required with a JSON webhook). */
  secret?: string;
  allowPrivate: boolean;
  /** Where people reach the dashboard (links in messages). */
  publicUrl: () => string;
  events: EventLog;
  /** Open incidents, kept across restarts and shared by a cluster (the gateway's store). */
  incidents: IncidentStore;
  takeSnapshot: (workerId: string, note: string) => Promise<FrozenSnapshot>;
  /** Messages per minute at most, all webhooks together (each goes to every webhook). */
  perMinute: number;
  retry: RetryPolicy;
  timeoutMs: number;
  /** Messages waiting per webhook at most; more are dropped and counted. */
  queueCap: number;
  metrics: NotifyMetrics;
  clock: Clock;
  log: Logger;
}

/** Events waiting to be judged at most; beyond it they are dropped and counted (queue_full). */
const JUDGE_QUEUE_CAP = 10_000;

/** Only scheme, host and port: a webhook URL's path is often its secret (Slack's is). */
export function shownTarget(url: URL): string {
  return `${url.protocol}//${url.host}/…`;
}

/**
 * Sends notifications about what happens to this gateway's workers (its own
 * fleet: in a cluster, each worker's owner is the only gateway that sees its
 * events, so exactly one gateway sends each message). One message per
 * worker per incident plus a recovery (incidents.ts), and one per action
 * outcome; a global rate limit covers them all. Each webhook has its own
 * bounded queue and sender, so a receiver that hangs or fails delays only
 * its own messages; nothing here waits on the event that caused them.
 */
export class Notifier {
  private readonly incidents: Incidents;
  /** Events waiting for their incident to be judged, in order (judging may read the store). */
  private readonly judging: FleetEvent[] = [];
  private judgingBusy = false;
  private readonly rate: NotifyRate;
  private readonly queues: { target: WebhookTarget; items: Notice[]; busy: boolean }[];
  private readonly stopping = new AbortController();
  private readonly unsubscribe: () => void;

  constructor(private readonly opts: NotifierOptions) {
    this.incidents = new Incidents(opts.incidents, opts.clock);
    this.rate = new NotifyRate(opts.perMinute, opts.clock);
    this.queues = opts.webhooks.map((target) => ({ target, items: [], busy: false }));
    this.unsubscribe = opts.events.onEvent((event) => this.onEvent(event));
  }

  close(): void {
    this.unsubscribe();
    this.stopping.abort();
  }

  private onEvent(event: FleetEvent): void {
    if (!mayNotify(event)) return;
    if (this.judging.length >= JUDGE_QUEUE_CAP) {
      this.opts.metrics.dropped("queue_full");
      return;
    }
    this.judging.push(event);
    if (!this.judgingBusy) void this.judgeInOrder();
  }

  /** One event at a time, so a worker's raise and clear reach the store in the order they happened. */
  private async judgeInOrder(): Promise<void> {
    this.judgingBusy = true;
    try {
      for (let event = this.judging.shift(); event; event = this.judging.shift()) {
        if (this.stopping.signal.aborted) return;
        let verdict: Awaited<ReturnType<Incidents["judge"]>>;
        try {
          verdict = await this.incidents.judge(event);
        } catch (err) {
          // Better a repeated message than a silent incident: without the
          // store, bad news is sent as if new, and nothing else is.
          verdict = announcedWithoutStore(event);
          this.opts.log.warn(
            { err: (err as Error).message, workerId: event.workerId },
            "incident state unavailable; judging this event without it",
          );
        }
        this.announce(event, verdict);
      }
    } finally {
      this.judgingBusy = false;
    }
  }

  private announce(event: FleetEvent, verdict: Awaited<ReturnType<Incidents["judge"]>>): void {
    if (verdict === undefined) return;
    if (verdict === "duplicate") {
      this.opts.metrics.dropped("duplicate");
      return;
    }
    if (!this.rate.take()) {
      this.opts.metrics.dropped("rate_limit");
      return;
    }
    const base = this.opts.publicUrl();
    const worker = encodeURIComponent(event.workerId);
    void this.opts
      .takeSnapshot(event.workerId, `notification: ${event.summary}`.slice(0, 2000))
      .catch((err: unknown): FrozenSnapshot => ({ refused: (err as Error).message }))
      .then((snapshot) => {
        const notice: Notice = {
          kind: verdict,
          workerId: event.workerId,
          summary: event.summary,
          atMs: Number(event.atMs),
          dashboardUrl: `${base}/workers/${worker}`,
          ...("id" in snapshot
            ? { snapshotUrl: `${base}/snapshots/${snapshot.id}/workers/${worker}` }
            : { snapshotMissing: snapshot.refused }),
        };
        for (const queue of this.queues) this.enqueue(queue, notice);
      });
  }

  private enqueue(queue: (typeof this.queues)[number], notice: Notice): void {
    if (this.stopping.signal.aborted) return;
    if (queue.items.length >= this.opts.queueCap) {
      this.opts.metrics.dropped("queue_full");
      return;
    }
    queue.items.push(notice);
    if (!queue.busy) void this.pump(queue);
  }

  private async pump(queue: (typeof this.queues)[number]): Promise<void> {
    queue.busy = true;
    try {
      for (let notice = queue.items.shift(); notice; notice = queue.items.shift()) {
        if (this.stopping.signal.aborted) return;
        await this.send(queue.target, notice);
      }
    } finally {
      queue.busy = false;
    }
  }

  private async send(target: WebhookTarget, notice: Notice): Promise<void> {
    const { opts } = this;
    const body = target.format === "slack" ? slackPayload(notice) : jsonPayload(notice);
    const post = () => {
      const headers: Record<string, string> =
        target.format === "json" && opts.secret
          ? { [SIGNATURE_HEADER]: signature(opts.secret, body, opts.clock.now()) }
          : {};
      return postOnce(target.url, body, headers, {
        timeoutMs: opts.timeoutMs,
        allowPrivate: opts.allowPrivate,
      });
    };
    const shown = shownTarget(target.url);
    try {
      const attempts = await deliver(post, opts.retry, (ms) => this.sleep(ms));
      opts.metrics.sent(attempts);
      opts.log.debug(
        { webhook: shown, kind: notice.kind, worker: notice.workerId },
        "notification sent",
      );
    } catch (err) {
      if (this.stopping.signal.aborted) return;
      const reason = err instanceof DeliveryError ? err.reason : "network";
      opts.metrics.failed(reason);
      const message = (err as Error).message;
      opts.log.warn(
        { webhook: shown, kind: notice.kind, worker: notice.workerId, reason, err: message },
        "notification failed",
      );
      opts.events.record({
        workerId: notice.workerId,
        kind: "notification",
        summary: `notification (${notice.kind}) to ${shown} failed: ${message}`.slice(0, 500),
      });
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = this.opts.clock.after(ms, resolve);
      this.stopping.signal.addEventListener("abort", () => {
        timer.cancel();
        reject(new Error("notifier stopped"));
      });
    });
  }
}
