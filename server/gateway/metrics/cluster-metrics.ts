import { Counter, Gauge, type Registry } from "prom-client";

/**
 * Cluster membership as this gateway sees it: how many live members, and how
 * many it has seen leave without saying goodbye (lease ran out) or with it.
 */
export class ClusterMetrics {
  private readonly members: Gauge;
  private readonly lost: Counter;
  private known = new Set<string>();

  constructor(registry: Registry) {
    this.members = new Gauge({
      name: "stallwatch_cluster_members",
      help: "Live gateways of the cluster this gateway sees, itself included.",
      registers: [registry],
    });
    this.lost = new Counter({
      name: "stallwatch_cluster_members_lost_total",
      help: "Gateways that dropped out of this gateway's member list.",
      registers: [registry],
    });
  }

  /** Called with every new member list; counts ids that were there and are not any more. */
  membersSeen(ids: readonly string[]): void {
    const now = new Set(ids);
    for (const id of this.known) if (!now.has(id)) this.lost.inc();
    this.known = now;
    this.members.set(now.size);
  }
}
