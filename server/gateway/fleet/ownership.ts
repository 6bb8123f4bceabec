import type { WorkerKind } from "./tracked-worker.js";

/**
 * One live stream that speaks for a worker id (an agent's Connect stream, a
 * Beam harness's WorkerStatus stream).
 */
export interface StreamHolder {
  kind: WorkerKind;
  /** The peer's address, for logs and refusals. */
  peer: string;
  /**
   * Resolves true when the stream and its connection are provably alive (an
   * HTTP/2 PING answered within `timeoutMs`), false when they are not.
   * Must settle within `timeoutMs` and never reject.
   */
  proveAlive(timeoutMs: number): Promise<boolean>;
  /** Ends the stream: it no longer speaks for the id. */
  evict(reason: string): void;
}

/**
 * Who may hold a dial-in worker id across the gateways of a cluster
 * (cluster/worker-ownership.ts keeps it in PostgreSQL). A gateway asks after
 * its own {@link WorkerOwnership} granted a claim, and lets go with it.
 */
export interface ClusterOwnership {
  /**
   * Takes `workerId` for this gateway. Resolves false when another live
   * gateway holds it (the stream is refused with AlreadyExists); true when
   * it was free, held by this gateway, or held by a gateway whose lease ran out.
   */
  claim(workerId: string): Promise<boolean>;
  /** Lets go of `workerId` if this gateway holds it. */
  release(workerId: string): Promise<void>;
  /** Lets go of everything this gateway holds (clean shutdown). */
  releaseAll(): Promise<void>;
}

/** What the fleet already has under the claimed id, if anything. */
export interface ExistingRow {
  kind: WorkerKind;
  /** The row's probed address (a static worker's id is its address). */
  address: string;
}

export type ClaimResult =
  | { granted: true; tookOverFrom?: StreamHolder }
  | { granted: false; reason: string; holder?: StreamHolder };

export interface OwnershipOptions {
  /** How long the current holder has to prove it is alive (default 2000 ms). */
  proveAliveTimeoutMs?: number;
}

/**
 * Who speaks for each worker id. The rules (README "Worker identity"):
 *
 * 1. Kinds never overwrite each other. A claim of kind K on a row of another
 *    kind is refused, with one exception: a static Spark target (configured
 *    by address) may be joined by a stream that announces exactly that
 *    address as its Manage endpoint — that is the same process, now with a
 *    status channel.
 * 2. An id bound to a live stream is refused to any other stream.
 * 3. When the holder cannot prove it is alive (its stream ended, or its
 *    connection does not answer a PING within the deadline), the newcomer
 *    takes over and the old stream is evicted: a worker that reconnects
 *    after a network fault gets its row back without waiting for TCP to
 *    notice.
 * 4. Two claims racing for one id: the second is refused while the first is
 *    being decided.
 *
 * Transport-agnostic so the agent endpoint and the Beam endpoint share it.
 */
export class WorkerOwnership {
  private readonly holders = new Map<string, StreamHolder>();
  private readonly deciding = new Set<string>();
  private readonly proveTimeoutMs: number;

  constructor(opts: OwnershipOptions = {}) {
    this.proveTimeoutMs = opts.proveAliveTimeoutMs ?? 2000;
  }

  /** The stream speaking for `id`, if any. */
  holder(id: string): StreamHolder | undefined {
    return this.holders.get(id);
  }

  get size(): number {
    return this.holders.size;
  }

  /**
   * Claims `id` for `claimant`. `existing` is the fleet's row under that id;
   * `announcedAddress` the Manage address the claimant announced (for rule 1's
   * exception). On success the claimant holds the id until {@link release}.
   */
  async claim(
    id: string,
    claimant: StreamHolder,
    existing: ExistingRow | undefined,
    announcedAddress = "",
  ): Promise<ClaimResult> {
    const kindProblem = kindConflict(existing, claimant.kind, announcedAddress);
    if (kindProblem) return { granted: false, reason: kindProblem };
    if (this.deciding.has(id))
      return { granted: false, reason: `worker id "${id}" is being claimed by another stream` };
    const current = this.holders.get(id);
    if (!current) {
      this.holders.set(id, claimant);
      return { granted: true };
    }
    if (current.kind !== claimant.kind)
      return {
        granted: false,
        reason: `worker id "${id}" belongs to a live ${current.kind} stream`,
        holder: current,
      };
    this.deciding.add(id);
    try {
      const alive = await current.proveAlive(this.proveTimeoutMs);
      // The holder may have gone (and someone else come) while we waited.
      const now = this.holders.get(id);
      if (now !== current) {
        if (now)
          return { granted: false, reason: `worker id "${id}" was just claimed`, holder: now };
        this.holders.set(id, claimant);
        return { granted: true };
      }
      if (alive)
        return {
          granted: false,
          reason: `worker id "${id}" is bound to a live ${current.kind === "beam" ? "Beam status stream" : "stream"} from ${current.peer}`,
          holder: current,
        };
      this.holders.set(id, claimant);
      current.evict(
        `worker id "${id}" taken over by ${claimant.peer}: this stream did not answer a ping within ${this.proveTimeoutMs} ms`,
      );
      return { granted: true, tookOverFrom: current };
    } finally {
      this.deciding.delete(id);
    }
  }

  /** Ends `holder`'s claim on `id`; a no-op when someone else holds it now. */
  release(id: string, holder: StreamHolder): boolean {
    if (this.holders.get(id) !== holder) return false;
    this.holders.delete(id);
    return true;
  }
}

/** Rule 1: why a claim of `kind` may not take `existing`, or undefined. */
export function kindConflict(
  existing: ExistingRow | undefined,
  kind: WorkerKind,
  announcedAddress: string,
): string | undefined {
  if (!existing || existing.kind === kind) return undefined;
  if (existing.kind === "spark" && announcedAddress !== "" && announcedAddress === existing.address)
    return undefined;
  if (existing.kind === "spark")
    return kind === "agent"
      ? `worker id belongs to the static Spark worker at ${existing.address}; announce that Manage address to join it`
      : `worker id belongs to the static Spark worker at ${existing.address}; a Beam harness cannot take it`;
  return `worker id belongs to a ${existing.kind === "beam" ? "Beam harness" : "Stallwatch agent"}`;
}
