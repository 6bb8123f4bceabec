import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ClusterService } from "../../../gen/stallwatch/v1/cluster_pb.js";
import { ControlService } from "../../../gen/stallwatch/v1/control_pb.js";
import {
  FleetService,
  type FleetTotals,
  type Worker,
} from "../../../gen/stallwatch/v1/fleet_pb.js";
import { sleep, type Clock, type Timer } from "../../shared/clock/clock.js";
import type { Logger } from "../../shared/logging/logger.js";
import type { Member } from "./membership.js";
import { sendClusterToken } from "./peer-auth.js";

/** Largest message from a peer (a full fleet state of ~10,000 workers fits). */
const MAX_PEER_MESSAGE_BYTES = 64 << 20;
/** A peer's stream that says nothing this long is presumed dead (it sends keepalives every 5 s). */
const IDLE_MS = 15_000;
const MAX_BACKOFF_MS = 2_000;

/** The services of a peer's --peer listener, by the name its link calls them. */
const PEER_SERVICES = {
  fleet: FleetService,
  control: ControlService,
  cluster: ClusterService,
} as const;

type PeerClients = {
  readonly [K in keyof typeof PEER_SERVICES]: Client<(typeof PEER_SERVICES)[K]>;
};

/** One live peer: clients for its --peer listener and what its fleet stream last said. */
export interface PeerLink extends PeerClients {
  member: Member;
  /** Whether its fleet stream is up (its rows are current, not last-known). */
  connected: boolean;
  totals: FleetTotals | undefined;
}

export interface PeerLinksOptions {
  token: string;
  selfId: string;
  log: Logger;
  /** A peer's workers changed; with `full`, `workers` is all it has. */
  onWorkers(source: string, workers: Worker[], removed: string[], full: boolean): void;
  /** A peer's stream went up or down. */
  onConnected(source: string): void;
  /** A peer left the cluster: forget its rows. */
  onGone(source: string): void;
  /** Idle deadlines and reconnect backoff. */
  clock: Clock;
}

/**
 * One link per live peer: clients for its --peer listener and one WatchFleet
 * stream kept open (reconnected with backoff, dropped when idle), whose
 * messages feed the merged fleet. Links follow the membership.
 */
export class PeerLinks {
  private readonly links = new Map<string, { link: PeerLink; stop: AbortController }>();
  private readonly clock: Clock;

  constructor(private readonly opts: PeerLinksOptions) {
    this.clock = opts.clock;
  }

  setMembers(members: readonly Member[]): void {
    const wanted = new Map(
      members.filter((m) => m.gatewayId !== this.opts.selfId).map((m) => [m.gatewayId, m]),
    );
    for (const [id, entry] of this.links) {
      const m = wanted.get(id);
      if (m && m.peerUrl === entry.link.member.peerUrl) continue;
      entry.stop.abort();
      this.links.delete(id);
      this.opts.onGone(id);
    }
    for (const [id, member] of wanted) {
      if (this.links.has(id)) continue;
      const transport = createGrpcTransport({
        baseUrl: member.peerUrl,
        interceptors: [sendClusterToken(this.opts.token)],
        readMaxBytes: MAX_PEER_MESSAGE_BYTES,
      });
      const link: PeerLink = {
        member,
        connected: false,
        totals: undefined,
        fleet: createClient(PEER_SERVICES.fleet, transport),
        control: createClient(PEER_SERVICES.control, transport),
        cluster: createClient(PEER_SERVICES.cluster, transport),
      };
      const stop = new AbortController();
      this.links.set(id, { link, stop });
      void this.follow(link, stop.signal);
    }
  }

  get(gatewayId: string): PeerLink | undefined {
    return this.links.get(gatewayId)?.link;
  }

  list(): PeerLink[] {
    return [...this.links.values()].map((e) => e.link);
  }

  close(): void {
    for (const entry of this.links.values()) entry.stop.abort();
    this.links.clear();
  }

  private async follow(link: PeerLink, signal: AbortSignal): Promise<void> {
    const id = link.member.gatewayId;
    const log = this.opts.log.child({ peer: id });
    let backoffMs = 100;
    let up = false;
    // A function, not the property: the loop's awaits change it behind TypeScript's narrowing.
    const stopped = () => signal.aborted;
    while (!stopped()) {
      const idle = new AbortController();
      let timer: Timer | undefined;
      const arm = () => {
        timer?.cancel();
        timer = this.clock.after(IDLE_MS, () => idle.abort());
      };
      const both = AbortSignal.any([signal, idle.signal]);
      try {
        arm();
        for await (const msg of link.fleet.watchFleet({}, { signal: both })) {
          arm();
          if (!up) {
            up = link.connected = true;
            backoffMs = 100;
            log.info("peer fleet stream up");
            this.opts.onConnected(id);
          }
          link.totals = msg.totals;
          this.opts.onWorkers(id, msg.workers, msg.removedWorkerIds, msg.fullState);
        }
      } catch (err) {
        if (!stopped()) log.debug({ err: (err as Error).message }, "peer fleet stream failed");
      } finally {
        timer?.cancel();
      }
      if (up) {
        up = link.connected = false;
        if (!stopped()) {
          log.warn(
            "peer fleet stream down; showing its last known workers until it is back or its lease ends",
          );
          this.opts.onConnected(id);
        }
      }
      if (stopped()) return;
      await sleep(this.clock, backoffMs, signal);
      backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
    }
  }
}
