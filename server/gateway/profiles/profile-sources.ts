import { ProfileSource } from "../../../gen/stallwatch/v1/profile_pb.js";
import type { TrackedWorker } from "../fleet/tracked-worker.js";

/** How a worker can be profiled, and the words that say so. */
export type SourceChoice =
  | { source: ProfileSource.AGENT }
  | { source: ProfileSource.DUMPS; via: "agent" | "beam" }
  | { source: ProfileSource.NONE; why: string };

/**
 * The best sampler a worker offers: its agent's own sampler when it
 * announced "profile"; else repeated thread dumps (an agent that dumps, a
 * Beam harness); else none, with the reason in a plain sentence.
 */
export function chooseSource(
  worker: TrackedWorker,
  has: { agent: boolean; beam: boolean },
): SourceChoice {
  const caps = worker.agent?.announce.capabilities ?? [];
  if (has.agent && caps.includes("profile")) return { source: ProfileSource.AGENT };
  if (has.agent && caps.includes("thread-dump"))
    return { source: ProfileSource.DUMPS, via: "agent" };
  if (has.beam) return { source: ProfileSource.DUMPS, via: "beam" };
  if (worker.agent && !worker.agent.connected)
    return {
      source: ProfileSource.NONE,
      why: `worker ${worker.id}'s agent is disconnected (${worker.agent.closedReason || "stream closed"}), and Manage heartbeats carry no stacks, so it cannot be sampled now`,
    };
  return {
    source: ProfileSource.NONE,
    why: `worker ${worker.id} speaks only the Spark Manage protocol, which carries heartbeats and metrics but no stacks, so Stallwatch cannot sample it; run the Stallwatch agent in it to profile it`,
  };
}
