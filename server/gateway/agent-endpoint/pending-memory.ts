import { Code } from "@connectrpc/connect";
import { AgentRefusal } from "./agent-admission.js";

const MIB = 1 << 20;

/**
 * What one agent stream is assumed to hold before it sent a byte: Node's
 * HTTP/2 stream and its request/response pair, Connect's per-call pipeline
 * and our own state (measured at 20-30 KiB per stream in the 500-connection
 * flood of `bench/edge-hostile.bench.ts`, rounded up).
 */
export const STREAM_OVERHEAD_BYTES = 32 << 10;

/** One stream's share of the budget, released once it is admitted or gone. */
export interface PendingStream {
  /**
   * Counts `bytes` the peer sent; false once the budget cannot hold them
   * (the stream is refused and its share released).
   */
  charge(bytes: number): boolean;
  /** Gives the stream's share back (admitted, or ended); idempotent. */
  release(): void;
}

/**
 * Memory held by agent streams that are not admitted yet, across every
 * connection: a stream is pending from its first frame until its worker
 * answered the first status request (then it has a fleet row and is judged
 * like any worker). Until then what it sends is buffered whole (an Announce
 * or a first report can be 4 MiB), so 2,000 streams over 500 connections
 * could make the gateway hold gigabytes for peers it never admits.
 *
 * Each pending stream costs {@link STREAM_OVERHEAD_BYTES} plus every byte it
 * sent; a stream that would take the total over `maxBytes` is refused
 * (`ResourceExhausted`, reason `memory`), and a new one is refused at once
 * while the budget is full. Admitted streams are bounded by the message cap
 * and the per-stream budgets instead.
 */
export class PendingMemory {
  private held = 0;

  constructor(
    readonly maxBytes: number,
    readonly overheadBytes = STREAM_OVERHEAD_BYTES,
  ) {}

  /** Bytes held by pending streams now. */
  get heldBytes(): number {
    return this.held;
  }

  /** Starts counting a new stream; throws an {@link AgentRefusal} when the budget is full. */
  enter(): PendingStream {
    if (this.held + this.overheadBytes > this.maxBytes) throw this.refusal();
    this.held += this.overheadBytes;
    let share = this.overheadBytes;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.held -= share;
    };
    return {
      charge: (bytes) => {
        if (released) return true;
        if (this.held + bytes > this.maxBytes) {
          release();
          return false;
        }
        this.held += bytes;
        share += bytes;
        return true;
      },
      release,
    };
  }

  /** What a stream refused for memory is told. */
  refusal(): AgentRefusal {
    return new AgentRefusal(
      "memory",
      `agent streams that have not joined yet already hold ${sizeText(this.maxBytes)} ` +
        "(--agent-pending-memory-mib); retry with backoff",
      Code.ResourceExhausted,
    );
  }
}

/** `64 MiB`, or `256 KiB` below a MiB. */
function sizeText(bytes: number): string {
  return bytes >= MIB ? `${Math.round(bytes / MIB)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

/** What {@link chargeArrivals} reads: an HTTP/2 stream's DATA as it arrives. */
interface Arrivals {
  on(event: "data", listener: (chunk: Buffer) => void): unknown;
  off(event: "data", listener: (chunk: Buffer) => void): unknown;
}

/**
 * Charges every chunk `stream` receives to `pending` until the returned
 * function is called; calls `onOver` once, when a chunk no longer fits.
 * Listening beside Connect's own reader is safe: Node's HTTP/2 request
 * already keeps the stream flowing, and every listener sees every chunk.
 */
export function chargeArrivals(
  stream: Arrivals | undefined,
  pending: PendingStream,
  onOver: () => void,
): () => void {
  if (!stream) return () => {};
  let over = false;
  const onData = (chunk: Buffer) => {
    if (over || pending.charge(chunk.length)) return;
    over = true;
    onOver();
  };
  stream.on("data", onData);
  return () => stream.off("data", onData);
}
