import { Code } from "@connectrpc/connect";
import type { Announce, ConnectRequest } from "../../../gen/stallwatch/v1/agent_pb.js";
import type { TrackedWorker } from "../fleet/tracked-worker.js";
import type { Clock, Timer } from "../../shared/clock/clock.js";
import type { Fleet } from "../fleet/fleet.js";
import type { HeartbeatProber } from "../heartbeats/heartbeat-prober.js";
import { parseHostPort } from "../../shared/net/host-port.js";
import { AgentRefusal } from "./agent-admission.js";
import type { AgentChannel } from "./agent-channel.js";

/** What the gateway accepts as Announce.worker_id (the agent client checks the same). */
const WORKER_ID = /^[\w.:@-]{1,128}$/;

/** Reads the stream's first message, which must be a valid Announce, within `timeoutMs`. */
export async function readAnnounce(
  iterator: AsyncIterator<ConnectRequest>,
  timeoutMs: number,
  clock: Clock,
): Promise<Announce> {
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = clock.after(timeoutMs, () =>
      reject(
        new AgentRefusal("announce", `no Announce within ${timeoutMs} ms`, Code.DeadlineExceeded),
      ),
    );
  });
  try {
    const first = await Promise.race([iterator.next(), timeout]);
    if (first.done || first.value.message.case !== "announce") {
      throw new AgentRefusal(
        "announce",
        "the first message on an agent stream must be Announce",
        Code.InvalidArgument,
      );
    }
    const announce = first.value.message.value;
    if (!WORKER_ID.test(announce.workerId)) {
      throw new AgentRefusal(
        "announce",
        "Announce.worker_id must be 1-128 letters, digits or . _ : @ -",
        Code.InvalidArgument,
      );
    }
    return announce;
  } finally {
    timer?.cancel();
  }
}

/**
 * The id of another worker whose live agent announced `manageAddress`, if
 * any: a second id on the same Manage endpoint would let "Drain <that id>"
 * shut down someone else's worker.
 */
export function manageAddressOwner(
  fleet: Fleet,
  channels: ReadonlyMap<string, AgentChannel>,
  id: string,
  manageAddress: string,
): string | undefined {
  if (manageAddress === "") return undefined;
  for (const other of channels.keys()) {
    if (other === id) continue;
    const w = fleet.get(other);
    if (w?.agent?.connected && w.agent.announce.manageAddress === manageAddress) return other;
  }
  return undefined;
}

/** Finds or creates the worker's entry and starts its Manage probe when it has one. */
export function adoptAgentWorker(
  fleet: Fleet,
  prober: HeartbeatProber,
  announce: Announce,
  peer: string,
): TrackedWorker {
  const worker = fleet.enroll(announce.workerId, "agent", announce.manageAddress || peer);
  fleet.agentConnected(worker, announce);
  if (announce.manageAddress !== "")
    prober.addTarget(parseHostPort(announce.manageAddress), worker);
  else {
    // No Manage endpoint (any more): nothing to probe under this id.
    prober.removeTarget(worker.id, { keepWorker: true });
    fleet.moveTo(worker, peer);
  }
  return worker;
}
