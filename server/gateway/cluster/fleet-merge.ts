import type { Worker } from "../../../gen/stallwatch/v1/fleet_pb.js";

/** Where a worker row came from: this gateway, or a peer's gateway id. */
export type Source = string;
export const LOCAL: Source = "";

export interface MergeChanges {
  upserts: Worker[];
  removed: string[];
}

/**
 * The whole fleet as one list, from this gateway's own workers and what each
 * peer streams about its own. A worker id appears once: while a hand-over is
 * under way two sources may list it, and the one with the lower rank wins
 * (this gateway first, then peers whose stream is live, then the last
 * known state of a peer whose stream broke), ties broken by source name so
 * every gateway shows the same row.
 */
export class FleetMerge {
  private readonly bySource = new Map<Source, Map<string, Worker>>();
  private readonly winner = new Map<string, Source>();

  constructor(private readonly rank: (source: Source) => number) {}

  /** A source's changes; with `full`, `upserts` is everything it has now. */
  apply(source: Source, upserts: Worker[], removed: string[], full = false): MergeChanges {
    let rows = this.bySource.get(source);
    if (!rows) {
      rows = new Map();
      this.bySource.set(source, rows);
    }
    const touched = new Set<string>();
    if (full) {
      const fresh = new Set(upserts.map((w) => w.id));
      for (const id of rows.keys()) if (!fresh.has(id)) touched.add(id);
      for (const id of touched) rows.delete(id);
    }
    for (const id of removed) {
      if (rows.delete(id)) touched.add(id);
    }
    for (const w of upserts) {
      rows.set(w.id, w);
      touched.add(w.id);
    }
    return this.settle(touched, source);
  }

  /** Forgets a source (a peer that left the cluster). */
  dropSource(source: Source): MergeChanges {
    const rows = this.bySource.get(source);
    if (!rows) return { upserts: [], removed: [] };
    this.bySource.delete(source);
    return this.settle(new Set(rows.keys()), source);
  }

  /** Re-ranks a source's rows (its stream broke or came back). */
  rerank(source: Source): MergeChanges {
    const rows = this.bySource.get(source);
    return rows ? this.settle(new Set(rows.keys()), undefined) : { upserts: [], removed: [] };
  }

  all(): Worker[] {
    const out: Worker[] = [];
    for (const [id, source] of this.winner) {
      const w = this.bySource.get(source)?.get(id);
      if (w) out.push(w);
    }
    return out;
  }

  /** Which source's row is shown for `id`. */
  sourceOf(id: string): Source | undefined {
    return this.winner.get(id);
  }

  /** Recomputes the winner of each id; `changed` is the source whose rows were updated. */
  private settle(ids: Set<string>, changed: Source | undefined): MergeChanges {
    const out: MergeChanges = { upserts: [], removed: [] };
    for (const id of ids) {
      let best: Source | undefined;
      let bestRank = Infinity;
      for (const [source, rows] of this.bySource) {
        if (!rows.has(id)) continue;
        const r = this.rank(source);
        if (r < bestRank || (r === bestRank && best !== undefined && source < best)) {
          best = source;
          bestRank = r;
        }
      }
      const before = this.winner.get(id);
      if (best === undefined) {
        if (before !== undefined) {
          this.winner.delete(id);
          out.removed.push(id);
        }
        continue;
      }
      this.winner.set(id, best);
      const row = this.bySource.get(best)?.get(id);
      if (row && (before !== best || best === changed)) out.upserts.push(row);
    }
    return out;
  }
}
