import { lookup } from "node:dns/promises";
import type { Clock, Timer } from "../../shared/clock/clock.js";
import type { HeartbeatProber } from "../heartbeats/heartbeat-prober.js";
import type { Logger } from "../../shared/logging/logger.js";
import { formatHostPort, type HostPort } from "../../shared/net/host-port.js";
import { ownedBy } from "./rendezvous.js";

/** Addresses taken from one DNS name: a bound on what a resolver can make us probe. */
const MAX_ADDRESSES_PER_NAME = 10_000;

export type Resolve = (host: string) => Promise<string[]>;

const systemResolve: Resolve = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Resolves `--worker-dns name:port` entries to one target per address, with a
 * deadline per name. A name that fails to resolve keeps its previous
 * addresses (a DNS hiccup must not drop a fleet) and is logged.
 */
export function createDnsTargets(
  names: readonly HostPort[],
  log: Logger,
  {
    resolve = systemResolve,
    timeoutMs = 5_000,
    clock,
  }: { resolve?: Resolve; timeoutMs?: number; clock: Clock },
): () => Promise<HostPort[]> {
  const last = new Map<string, HostPort[]>();
  return async () => {
    const results = await Promise.all(
      names.map(async (name) => {
        const key = formatHostPort(name);
        let timer: Timer | undefined;
        try {
          const addresses = await Promise.race([
            resolve(name.host),
            new Promise<never>((_, reject) => {
              timer = clock.after(timeoutMs, () =>
                reject(new Error(`no answer within ${timeoutMs} ms`)),
              );
            }),
          ]);
          const unique = [...new Set(addresses)].slice(0, MAX_ADDRESSES_PER_NAME);
          const targets = unique.map((host) => ({ host, port: name.port }));
          last.set(key, targets);
          return targets;
        } catch (err) {
          log.warn(
            { name: key, err: (err as Error).message, keeping: last.get(key)?.length ?? 0 },
            "worker DNS name did not resolve; keeping its previous addresses",
          );
          return last.get(key) ?? [];
        } finally {
          timer?.cancel();
        }
      }),
    );
    return results.flat();
  };
}

export interface StaticAssignmentOptions {
  prober: Pick<HeartbeatProber, "addTarget" | "removeTarget" | "probeNow">;
  selfId: string;
  /** Live gateway ids (this one included while its lease holds); replaceable by setMembership. */
  members: () => readonly string[];
  log: Logger;
}

/**
 * Spreads static workers over live gateways by rendezvous hashing and keeps
 * this gateway's prober probing exactly its share. Every gateway computes the
 * same split from the same member list; a worker that changes hands is
 * probed at once by its new owner (not at its next turn), so a dead
 * gateway's workers are seen again within its lease plus one renewal.
 */
export class StaticAssignment {
  /** Ids of the static workers this gateway probes now (expiredGoneWorkers never forgets them). */
  readonly owned = new Set<string>();
  private targets = new Map<string, HostPort>();

  private selfId: string;
  private members: () => readonly string[];

  constructor(private readonly opts: StaticAssignmentOptions) {
    this.selfId = opts.selfId;
    this.members = opts.members;
  }

  /** Joins a cluster: from now on this gateway probes only its share, recomputed now. */
  setMembership(selfId: string, members: () => readonly string[]): void {
    this.selfId = selfId;
    this.members = members;
    this.rebalance();
  }

  /** Replaces the whole list of static targets (flags, config and DNS) and rebalances. */
  setTargets(targets: readonly HostPort[]): void {
    this.targets = new Map(targets.map((t) => [formatHostPort(t), t]));
    this.reassign(false);
  }

  /** Recomputes this gateway's share; call when the members change. */
  rebalance(): void {
    this.reassign(true);
  }

  /**
   * A worker handed over by a departed gateway is probed now; a new target
   * (from config or DNS) waits for its own random turn, so a fleet added at
   * once does not beat in step.
   */
  private reassign(handOver: boolean): void {
    const members = this.members();
    const mine = ownedBy(this.selfId, this.targets.keys(), members);
    const dropped: string[] = [];
    const taken: string[] = [];
    for (const id of this.owned) {
      if (mine.has(id)) continue;
      this.opts.prober.removeTarget(id);
      this.owned.delete(id);
      dropped.push(id);
    }
    for (const id of mine) {
      if (this.owned.has(id)) continue;
      const target = this.targets.get(id);
      if (!target) continue;
      this.opts.prober.addTarget(target);
      this.owned.add(id);
      taken.push(id);
    }
    if (handOver) for (const id of taken) this.opts.prober.probeNow(id);
    if (taken.length + dropped.length > 0) {
      this.opts.log.info(
        {
          taken: taken.length,
          dropped: dropped.length,
          owned: this.owned.size,
          of: this.targets.size,
          members: members.length,
        },
        "static workers reassigned",
      );
    }
  }
}

/** Where static workers come from, and how often DNS names are looked up again. */
export interface StaticTargetSources {
  /** Fixed targets (flags, config). */
  fixed: readonly HostPort[];
  /** `--worker-dns` names: one target per address each resolves to. */
  dnsNames: readonly HostPort[];
  intervalMs: number;
  log: Logger;
  resolve?: Resolve;
  clock: Clock;
}

/**
 * Keeps the assignment's targets current: the fixed ones plus every address
 * of each DNS name, re-resolved `intervalMs` after the previous round ended
 * (a slow resolver never stacks rounds). Returns a stop function.
 */
export function refreshStaticTargets(
  assignment: Pick<StaticAssignment, "setTargets">,
  sources: StaticTargetSources,
): () => void {
  const { fixed, dnsNames, intervalMs, log, resolve, clock } = sources;
  if (dnsNames.length === 0) {
    assignment.setTargets(fixed);
    return () => {};
  }
  const next = createDnsTargets(dnsNames, log, { clock, ...(resolve ? { resolve } : {}) });
  let stopped = false;
  let timer: Timer | undefined;
  const round = async () => {
    const found = await next();
    if (stopped) return;
    assignment.setTargets([...fixed, ...found]);
    timer = clock.after(intervalMs, () => void round());
  };
  assignment.setTargets(fixed);
  void round();
  return () => {
    stopped = true;
    timer?.cancel();
  };
}
