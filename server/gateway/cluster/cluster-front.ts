import type { Worker } from "../../../gen/stallwatch/v1/fleet_pb.js";
import type { Clock, Timer } from "../../shared/clock/clock.js";
import type { Logger } from "../../shared/logging/logger.js";
import { LOCAL, type Source } from "./fleet-merge.js";
import type { Member } from "./membership.js";
import { PeerLinks, type PeerLink } from "./peer-links.js";

/**
 * Rows a peer let go of (handed over, or the peer left the cluster) stay
 * this long under DEPARTED, shown only while no one else lists them, so a
 * hand-over never blinks the worker out of the dashboard.
 */
const DEPARTED_GRACE_MS = 5_000;
/** The pseudo-source of departed rows (sorts after every gateway id). */
export const DEPARTED: Source = "~departed";

export type PeerEvent =
  | { kind: "rows"; source: Source; workers: Worker[]; removed: string[]; full: boolean }
  | { kind: "rank"; source: Source }
  | { kind: "gone"; source: Source };

/**
 * What this gateway knows of its peers' fleets: the last rows each peer
 * streamed (kept while its stream is down, until it leaves the cluster), and
 * a feed of changes for the merged browser streams. Before the gateway joins
 * a cluster it simply has no peers.
 */
export class ClusterFront {
  readonly rows = new Map<Source, Map<string, Worker>>();
  private readonly listeners = new Set<(e: PeerEvent) => void>();
  private links: PeerLinks | undefined;
  private readonly departedTimers = new Map<string, Timer>();

  constructor(
    private readonly log: Logger,
    /** Departed rows' grace and the peer links' deadlines and backoff. */
    private readonly clock: Clock,
  ) {}

  /** Starts following peers (called once the gateway has joined). */
  connect(token: string, selfId: string): void {
    this.links = new PeerLinks({
      token,
      selfId,
      log: this.log,
      clock: this.clock,
      onWorkers: (source, workers, removed, full) => {
        let rows = this.rows.get(source);
        if (!rows) this.rows.set(source, (rows = new Map<string, Worker>()));
        if (full) rows.clear();
        const gone: Worker[] = [];
        for (const id of removed) {
          const row = rows.get(id);
          if (row) gone.push(row);
          rows.delete(id);
        }
        for (const w of workers) rows.set(w.id, w);
        this.emit({ kind: "rows", source, workers, removed, full });
        this.depart(gone);
      },
      onConnected: (source) => this.emit({ kind: "rank", source }),
      onGone: (source) => {
        const rows = this.rows.get(source);
        this.rows.delete(source);
        this.emit({ kind: "gone", source });
        this.depart([...(rows?.values() ?? [])]);
      },
    });
  }

  setMembers(members: readonly Member[]): void {
    this.links?.setMembers(members);
  }

  /** Merge rank: this gateway, then peers whose stream is up, then last-known rows, then departed ones. */
  readonly rank = (source: Source): number =>
    source === LOCAL ? 0 : source === DEPARTED ? 3 : this.links?.get(source)?.connected ? 1 : 2;

  /** The link of the peer whose row for `workerId` is the best one, if any peer has it. */
  ownerOf(workerId: string): PeerLink | undefined {
    let best: PeerLink | undefined;
    for (const [source, rows] of this.rows) {
      if (!rows.has(workerId)) continue;
      const link = this.links?.get(source);
      if (!link) continue;
      if (!best || (link.connected && !best.connected)) best = link;
    }
    return best;
  }

  peers(): PeerLink[] {
    return this.links?.list() ?? [];
  }

  subscribe(listener: (e: PeerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.links?.close();
    for (const t of this.departedTimers.values()) t.cancel();
    this.departedTimers.clear();
  }

  /** Keeps rows a peer let go of for a grace, then drops them. */
  private depart(rows: Worker[]): void {
    if (rows.length === 0) return;
    let departed = this.rows.get(DEPARTED);
    if (!departed) this.rows.set(DEPARTED, (departed = new Map<string, Worker>()));
    for (const w of rows) {
      departed.set(w.id, w);
      this.departedTimers.get(w.id)?.cancel();
      const timer = this.clock.after(DEPARTED_GRACE_MS, () => {
        this.departedTimers.delete(w.id);
        if (departed.delete(w.id))
          this.emit({ kind: "rows", source: DEPARTED, workers: [], removed: [w.id], full: false });
      });
      this.departedTimers.set(w.id, timer);
    }
    this.emit({ kind: "rows", source: DEPARTED, workers: rows, removed: [], full: false });
  }

  private emit(e: PeerEvent): void {
    for (const l of this.listeners) l(e);
  }
}
