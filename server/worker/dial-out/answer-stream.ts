import { SendQueue } from "./send-queue.js";

export interface AnswerStreamOptions<In, Out> {
  /** Aborts when the link stops: ends this connection's stream. */
  signal: AbortSignal;
  /** Opens the bidi stream with our outgoing messages; yields what the peer sends. */
  open(outgoing: AsyncIterable<Out>, signal: AbortSignal): AsyncIterable<In>;
  /** Sent before any answer (e.g. the agent's Announce). */
  first?: Out;
  /** Answers queued at most; see SendQueue for what goes when full. */
  maxQueued: number;
  /** Which queued answers may be dropped first when the peer stops reading. */
  droppable: (answer: Out) => boolean;
  /** Starts the answer to one message; `reply` queues it whenever it is ready. */
  onMessage(message: In, reply: (answer: Out) => void): void;
  /** Called on every message from the peer: it is talking to us. */
  up(): void;
  /** An answer was dropped because the peer is not reading, or came after the stream ended. */
  onDropped(answer: Out, why: "not-reading" | "stream-ended", queued: number): void;
  /** What to report when the peer ends the stream cleanly. */
  endedByPeer: string;
}

/**
 * One connection's life for a stream on which we answer what the peer asks
 * (the agent protocol, Beam's WorkerStatus): answers leave through a bounded
 * queue, the stream ends when the peer ends it or the link stops, and the
 * queue is closed either way so late answers are dropped, not buffered.
 * Resolves with the reason the stream ended; rejects with its error.
 */
export async function runAnswerStream<In, Out>(
  opts: AnswerStreamOptions<In, Out>,
): Promise<string> {
  const queue = new SendQueue<Out>(opts.maxQueued, opts.droppable);
  // Ends this connection's outgoing stream whether the peer or the link ends it.
  const round = new AbortController();
  const endRound = () => round.abort();
  opts.signal.addEventListener("abort", endRound, { once: true });
  const reply = (answer: Out) => {
    if (queue.isClosed) {
      // Answered after its stream ended; the peer failed that request already.
      opts.onDropped(answer, "stream-ended", 0);
      return;
    }
    const dropped = queue.push(answer);
    if (dropped) opts.onDropped(dropped, "not-reading", queue.size);
  };
  async function* outgoing(): AsyncGenerator<Out> {
    if (opts.first !== undefined) yield opts.first;
    for (;;) {
      const batch = await queue.take(round.signal);
      if (batch === undefined) return;
      yield* batch;
    }
  }
  try {
    for await (const message of opts.open(outgoing(), round.signal)) {
      opts.up();
      opts.onMessage(message, reply);
    }
    return opts.endedByPeer;
  } finally {
    opts.signal.removeEventListener("abort", endRound);
    round.abort();
    queue.close();
  }
}
