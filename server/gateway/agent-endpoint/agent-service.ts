import type { ServiceImpl } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import type { AgentService } from "../../../gen/stallwatch/v1/agent_pb.js";
import {
  peerAddressKey,
  peerHost,
  peerStreamKey,
  proveStreamAlive,
} from "../../shared/net/peer-address.js";
import type { Fleet } from "../fleet/fleet.js";
import { WorkerOwnership, type StreamHolder } from "../fleet/ownership.js";
import type { HeartbeatProber } from "../heartbeats/heartbeat-prober.js";
import { AgentChannel } from "./agent-channel.js";
import { AgentAdmission, AgentRefusal, AgentSlots, DEFAULT_ADMISSION } from "./agent-admission.js";
import { manageAddressOwner, readAnnounce } from "./agent-adopt.js";
import type { AgentChannels, AgentServiceOptions } from "./agent-options.js";
import { serveAgent } from "./agent-stream.js";
import { RefusalLog } from "./refusal-log.js";
import { AgentIngest, DEFAULT_INGEST_CAPS, type IngestStats } from "./agent-ingest.js";
import { AdmissionPacer } from "./admission-pacer.js";
import { chargeArrivals, PendingMemory, type PendingStream } from "./pending-memory.js";

/**
 * `AgentService.Connect`: a worker announces itself and keeps the stream
 * open. Workers with a Manage address are also probed with heartbeats (the
 * two paths are judged separately and shown together); workers without one
 * are judged by their status round trips.
 *
 * Before a stream costs anything it is admitted (token or loopback, rate,
 * caps); its Announce is capped and redacted, its Manage address checked,
 * and its id claimed through {@link WorkerOwnership}. Every refusal is a
 * gRPC status naming what and why, a log line, a /metrics count and, for a
 * contested id, a fleet event.
 */
export function createAgentService(
  fleet: Fleet,
  prober: HeartbeatProber,
  channels: AgentChannels,
  opts: AgentServiceOptions,
): ServiceImpl<typeof AgentService> {
  const admission = new AgentAdmission({ ...DEFAULT_ADMISSION, ...opts.admission }, opts.clock);
  const slots = new AgentSlots(admission.opts);
  const memory = new PendingMemory(admission.opts.maxPendingBytes);
  const pacer = new AdmissionPacer(
    admission.opts.admissionsPerTurn,
    admission.opts.maxWaitingAdmissions,
  );
  const ownership = opts.ownership ?? new WorkerOwnership();
  const ingest = new AgentIngest(opts.redact, opts.caps ?? DEFAULT_INGEST_CAPS);
  const counted = (stats: IngestStats) => {
    if (stats.truncatedStrings + stats.droppedItems > 0) opts.onTruncated?.(stats);
  };
  const refusals = new RefusalLog(opts.log);
  /** Logs, counts and records a refusal; returns the error for the caller to throw. */
  const refuse = (err: unknown, peer: string, workerId?: string): unknown => {
    if (err instanceof AgentRefusal) {
      opts.onRefused?.(err.reason);
      const logged = refusals.refused(
        err.reason,
        { peer, worker: workerId, code: Code[err.code] },
        `agent refused: ${err.rawMessage}`,
      );
      if (
        logged &&
        workerId &&
        (err.reason === "id_in_use" || err.reason === "kind" || err.reason === "address")
      )
        opts.events?.record({
          workerId,
          kind: "identity",
          summary: `agent stream from ${peer} refused: ${err.rawMessage}`,
        });
    }
    return err;
  };

  return {
    async *connect(requests, context) {
      const peer = context.values.get(peerAddressKey);
      const host = peerHost(peer);
      const stream = context.values.get(peerStreamKey);
      let release: (() => void) | undefined;
      let pending: PendingStream | undefined;
      try {
        admission.admit(host, context.requestHeader.get("authorization"));
        release = slots.take(stream?.session);
        pending = memory.enter();
      } catch (err) {
        release?.();
        throw refuse(err, peer);
      }
      // Until its worker joins, what the stream sends is charged to the
      // budget of streams not admitted yet; over it, the stream is refused.
      let overBudget: (refusal: AgentRefusal) => void = () => {};
      const over = new Promise<AgentRefusal>((resolve) => (overBudget = resolve));
      const stopCharging = chargeArrivals(stream, pending, () => overBudget(memory.refusal()));
      const joined = () => {
        stopCharging();
        pending.release();
      };
      const channelRef: { channel?: AgentChannel } = {};
      const holder: StreamHolder = {
        kind: "agent",
        peer,
        proveAlive: (timeoutMs) => proveStreamAlive(stream, timeoutMs),
        evict: (reason) => channelRef.channel?.close(reason),
      };
      let claimedId: string | undefined;
      try {
        const iterator = requests[Symbol.asyncIterator]();
        let announce;
        try {
          announce = await Promise.race([
            readAnnounce(iterator, opts.announceTimeoutMs, opts.clock),
            over.then((refusal) => Promise.reject(refusal)),
          ]);
          // The costly part of admission (redaction, ownership, the first
          // status request) goes a bounded number of streams per loop turn.
          await pacer.turn();
          counted(ingest.announce(announce));
          announce.manageAddress = admission.manageAddress(announce.manageAddress, host);
        } catch (err) {
          throw refuse(err, peer);
        }
        const id = announce.workerId;
        const owner = manageAddressOwner(fleet, channels, id, announce.manageAddress);
        if (owner)
          throw refuse(
            new AgentRefusal(
              "address",
              `Manage address ${announce.manageAddress} belongs to live worker "${owner}"`,
              Code.PermissionDenied,
            ),
            peer,
            id,
          );
        const existing = fleet.get(id);
        const claim = await ownership.claim(
          id,
          holder,
          existing && { kind: existing.kind, address: existing.address },
          announce.manageAddress,
        );
        if (!claim.granted)
          throw refuse(
            new AgentRefusal(
              existing && existing.kind !== "agent" ? "kind" : "id_in_use",
              claim.reason,
              Code.AlreadyExists,
            ),
            peer,
            id,
          );
        claimedId = id;
        if (opts.clusterOwnership && !(await opts.clusterOwnership.claim(id)))
          throw refuse(
            new AgentRefusal(
              "id_in_use",
              `worker id "${id}" is connected to another gateway of this cluster`,
              Code.AlreadyExists,
            ),
            peer,
            id,
          );
        const log = opts.log.child({ worker: id, kind: "agent" });
        if (claim.tookOverFrom) {
          log.warn(
            { peer, previous: claim.tookOverFrom.peer },
            "worker id taken over from a dead stream",
          );
          opts.events?.record({
            workerId: id,
            kind: "identity",
            summary: `${id} reconnected from ${peer}; the previous stream (${claim.tookOverFrom.peer}) did not answer a ping and was closed`,
          });
        }
        const channel = new AgentChannel(id, opts.clock);
        channelRef.channel = channel;
        channels.get(id)?.close("replaced by a new connection from the same worker");
        channels.set(id, channel);
        yield* serveAgent({
          fleet,
          prober,
          channels,
          opts,
          log,
          peer,
          announce,
          channel,
          iterator,
          ingest,
          counted,
          peerGone: context.signal,
          overBudget: over,
          onJoined: joined,
          refused: (err) => {
            refuse(err, peer, id);
          },
        });
      } finally {
        // The cluster row goes only with the local claim: a reconnect that
        // took the id over on this gateway keeps it.
        if (claimedId !== undefined && ownership.release(claimedId, holder))
          opts.clusterOwnership?.release(claimedId).catch((err: unknown) => {
            opts.log.warn(
              { worker: claimedId, err: (err as Error).message },
              "worker id not released in the cluster",
            );
          });
        joined();
        release();
      }
    },
  };
}
