import type { Clock } from "../../shared/clock/clock.js";
import type { Logger } from "../../shared/logging/logger.js";
import type { Store } from "../store/store.js";
import { Membership, type Member } from "./membership.js";
import type { StaticAssignment } from "./static-workers.js";
import type { ClusterOwnership } from "../fleet/ownership.js";

export interface ClusterNodeOptions {
  store: Store;
  self: Member;
  leaseMs: number;
  intervalMs: number;
  staticWorkers: Pick<StaticAssignment, "setMembership" | "rebalance">;
  ownership: ClusterOwnership;
  log: Logger;
  /** Called whenever the live members change (peer links follow it). */
  onMembers?: (members: readonly Member[]) => void;
  /** Lease times, renewal and lapse checks. */
  clock: Clock;
}

export interface ClusterNode {
  members(): readonly Member[];
  /** Leaves: the row goes (peers take over now) and dial-in ids are released. */
  leave(): Promise<void>;
}

/**
 * This gateway's part in a cluster: its lease, and its share of the static
 * workers, recomputed whenever the members change.
 */
export async function joinCluster(opts: ClusterNodeOptions): Promise<ClusterNode> {
  const clock = opts.clock;
  const membership = new Membership({
    clock,
    store: opts.store,
    self: opts.self,
    leaseMs: opts.leaseMs,
    renewMs: opts.intervalMs,
    log: opts.log,
    onChange: (members) => {
      opts.staticWorkers.rebalance();
      opts.onMembers?.(members);
    },
  });
  // Ids a previous process under this name held are free again (it is gone).
  await opts.ownership.releaseAll();
  await membership.start();
  opts.staticWorkers.setMembership(opts.self.gatewayId, () =>
    membership.members().map((m) => m.gatewayId),
  );
  // A lapsed own lease drops every static worker: check between renewals too.
  const lapse = clock.every(opts.intervalMs, () => opts.staticWorkers.rebalance());
  opts.log.info(
    {
      gateway: opts.self.gatewayId,
      peer: opts.self.peerUrl,
      members: membership.members().map((m) => m.gatewayId),
      leaseMs: opts.leaseMs,
    },
    "joined the cluster",
  );
  let left: Promise<void> | undefined;
  return {
    members: () => membership.members(),
    leave() {
      left ??= (async () => {
        lapse.cancel();
        await membership.stop();
        await opts.ownership
          .releaseAll()
          .catch((err: unknown) =>
            opts.log.warn({ err: (err as Error).message }, "dial-in worker ids not released"),
          );
      })();
      return left;
    },
  };
}
