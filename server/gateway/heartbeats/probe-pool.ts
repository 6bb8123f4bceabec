import { Worker } from "node:worker_threads";
import type { Clock } from "../../shared/clock/clock.js";
import { readBeatBatch, type BeatBatch } from "./beat-batch.js";
import { ProbeShard, type BeatClient, type BeatRecord } from "./probe-shard.js";
import type { ProbeThreadConfig, ToProbeThread } from "./probe-thread-messages.js";

/** A shard of the fleet, probed on this thread or on a worker thread. */
interface ShardHandle {
  targets: number;
  send(message: ToProbeThread): void;
  stop(): void;
}

export interface ProbePoolOptions extends ProbeThreadConfig {
  /** Worker threads to probe on; 0 probes on the calling thread. */
  threads: number;
  /** The clock of a shard on the calling thread (probe threads use the real one). */
  clock: Clock;
  /** How a shard on the calling thread calls a target (unit tests pass a fake). */
  connect?: (host: string, port: number) => BeatClient;
  /** Every beat record, in the order each shard produced them. */
  onRecord: (record: BeatRecord) => void;
  /** A probe thread died: the gateway cannot go on without it. */
  onFatal: (err: Error) => void;
}

/**
 * Spreads targets over shards (the least loaded gets the next one) and hands
 * their beat records back. With threads, only targets go in and batched
 * records come out: no fleet state is shared.
 */
export class ProbePool {
  private readonly shards: ShardHandle[] = [];
  private readonly shardOf = new Map<number, ShardHandle>();
  private stopped = false;
  /** Worker threads probing; 0 when probing runs on the calling thread. */
  readonly threads: number;

  constructor(opts: ProbePoolOptions) {
    this.threads = Math.max(0, opts.threads);
    const config: ProbeThreadConfig = {
      intervalMs: opts.intervalMs,
      deadlineMs: opts.deadlineMs,
      maxBackoffMs: opts.maxBackoffMs,
      tickMs: opts.tickMs,
      flushMs: opts.flushMs,
    };
    if (opts.threads <= 0) {
      const shard = new ProbeShard({
        ...config,
        clock: opts.clock,
        ...(opts.connect ? { connect: opts.connect } : {}),
        onRecord: opts.onRecord,
      });
      this.shards.push({
        targets: 0,
        send: (m) => {
          if (m.t === "add") shard.add(m.slot, m.host, m.port, m.delayMs);
          else if (m.t === "remove") shard.remove(m.slot);
          else if (m.t === "now") shard.probeNow(m.slot);
          else shard.stop();
        },
        stop: () => shard.stop(),
      });
      return;
    }
    for (let i = 0; i < opts.threads; i++) {
      const worker = new Worker(new URL("./probe-thread.js", import.meta.url), {
        workerData: config,
        name: `probe-${i}`,
      });
      worker.on("message", (batch: BeatBatch) => readBeatBatch(batch, opts.onRecord));
      worker.on("error", (err) => {
        if (!this.stopped) opts.onFatal(err);
      });
      worker.on("exit", (code) => {
        if (!this.stopped) opts.onFatal(new Error(`probe thread ${i} exited with code ${code}`));
      });
      // The gateway's listeners keep the process alive, not the probe threads.
      worker.unref();
      this.shards.push({
        targets: 0,
        send: (m) => worker.postMessage(m),
        stop: () => {
          worker.postMessage({ t: "stop" } satisfies ToProbeThread);
          void worker.terminate();
        },
      });
    }
  }

  add(slot: number, host: string, port: number, delayMs: number): void {
    let shard = this.shards[0] as ShardHandle;
    for (const s of this.shards) if (s.targets < shard.targets) shard = s;
    shard.targets += 1;
    this.shardOf.set(slot, shard);
    shard.send({ t: "add", slot, host, port, delayMs });
  }

  remove(slot: number): void {
    const shard = this.shardOf.get(slot);
    if (!shard) return;
    shard.targets -= 1;
    this.shardOf.delete(slot);
    shard.send({ t: "remove", slot });
  }

  probeNow(slot: number): void {
    this.shardOf.get(slot)?.send({ t: "now", slot });
  }

  stop(): void {
    this.stopped = true;
    for (const shard of this.shards) shard.stop();
    this.shardOf.clear();
  }
}
