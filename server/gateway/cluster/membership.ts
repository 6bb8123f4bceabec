import type { Clock, Timer } from "../../shared/clock/clock.js";
import type { Logger } from "../../shared/logging/logger.js";
import type { Store } from "../store/store.js";

/** A gateway of the cluster, as its row in `gateways` says. */
export interface Member {
  gatewayId: string;
  /** Where peers reach its gateway-to-gateway API. */
  peerUrl: string;
  /** Its dashboard, for links and logs. */
  httpUrl: string;
}

export interface MembershipOptions {
  store: Pick<Store, "db" | "guard">;
  self: Member;
  /** How long a registration lives without renewal. */
  leaseMs: number;
  /** How often the lease is renewed and the member list re-read (well under leaseMs). */
  renewMs: number;
  log: Logger;
  /** Called after each renewal whose live member list differs from the last. */
  onChange?: (members: readonly Member[]) => void;
  /** Lease times and the renewal timer. */
  clock: Clock;
}

/** Rows expired this long are deleted by whoever notices (they only matter to logs). */
const FORGET_AFTER_MS = 3_600_000;

/**
 * Cluster membership by leases in the shared database: each gateway upserts
 * its row with `lease_until_ms = now + lease` every `renewMs`, and reads the
 * rows whose lease has not run out. A gateway that dies stops renewing; the
 * others drop it once its lease passes, at their next renewal, so everything
 * it owned moves within lease + one renewal. A gateway that cannot renew in
 * time counts itself out too (members() no longer lists it), so two
 * gateways never both think they own a static worker for long.
 *
 * Leases compare wall clocks: gateways' clocks must agree to well under the
 * lease (NTP does).
 */
export class Membership {
  private live: Member[] = [];
  private renewedUntil = 0;
  private timer: Timer | undefined;
  private stopped = false;
  private readonly clock: Clock;

  constructor(private readonly opts: MembershipOptions) {
    this.clock = opts.clock;
  }

  /** Live members sorted by id; without this gateway once its own lease lapsed. */
  members(): readonly Member[] {
    if (this.clock.now() >= this.renewedUntil)
      return this.live.filter((m) => m.gatewayId !== this.opts.self.gatewayId);
    return this.live;
  }

  /** Registers, reads the members once, then renews on a timer. */
  async start(): Promise<void> {
    await this.renew();
    this.schedule();
  }

  /** Renews now (also what the timer runs). */
  async renew(): Promise<void> {
    const { store, self, leaseMs } = this.opts;
    const now = this.clock.now();
    const until = now + leaseMs;
    await store.guard("renew gateway lease", () =>
      store.db
        .insertInto("gateways")
        .values({
          gateway_id: self.gatewayId,
          peer_url: self.peerUrl,
          http_url: self.httpUrl,
          lease_until_ms: until,
          started_at_ms: now,
        })
        .onConflict((oc) =>
          oc.column("gateway_id").doUpdateSet({
            lease_until_ms: until,
            peer_url: self.peerUrl,
            http_url: self.httpUrl,
          }),
        )
        .execute(),
    );
    this.renewedUntil = until;
    const rows = await store.guard("read gateways", () =>
      store.db
        .selectFrom("gateways")
        .select(["gateway_id", "peer_url", "http_url"])
        .where("lease_until_ms", ">", now)
        .orderBy("gateway_id")
        .execute(),
    );
    const next = rows.map((r) => ({
      gatewayId: r.gateway_id,
      peerUrl: r.peer_url,
      httpUrl: r.http_url,
    }));
    const changed =
      next.length !== this.live.length ||
      next.some((m, i) => {
        const old = this.live[i];
        return old?.gatewayId !== m.gatewayId || old.peerUrl !== m.peerUrl;
      });
    this.live = next;
    if (changed) {
      this.opts.log.info({ members: next.map((m) => m.gatewayId) }, "cluster members changed");
      this.opts.onChange?.(next);
    }
    if (Math.random() < 0.05) {
      await store
        .guard("forget old gateways", () =>
          store.db
            .deleteFrom("gateways")
            .where("lease_until_ms", "<", now - FORGET_AFTER_MS)
            .execute(),
        )
        .catch(() => {});
    }
  }

  /** Stops renewing and removes this gateway's row, so peers take over now, not at lease end. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    const { store, self } = this.opts;
    await store
      .guard("leave the cluster", () =>
        store.db.deleteFrom("gateways").where("gateway_id", "=", self.gatewayId).execute(),
      )
      .catch((err: unknown) =>
        this.opts.log.warn({ err: (err as Error).message }, "could not leave the cluster cleanly"),
      );
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.after(this.opts.renewMs, () => {
      this.renew()
        .catch((err: unknown) => {
          // A fatal error already went to the store's onFatal; others retry.
          this.opts.log.warn({ err: (err as Error).message }, "gateway lease renewal failed");
          // The live list is stale and our own lease may lapse: say so.
          this.opts.onChange?.(this.members());
        })
        .finally(() => this.schedule());
    });
  }
}
