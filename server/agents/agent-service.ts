import type { ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { AgentService, ConnectRequest } from "../../gen/stallwatch/v1/agent_pb.js";
import type { EventLog } from "../events/event-log.js";
import type { Logger } from "../logging/logger.js";
import { peerAddressKey, peerHost, peerStreamKey, proveStreamAlive } from "../net/peer-address.js";
import type { FleetWorker } from "../fleet/fleet-worker.js";
import type { Fleet } from "../fleet/fleet.js";
import { WorkerOwnership, type StreamHolder } from "../fleet/ownership.js";
import type { HeartbeatProber } from "../heartbeats/heartbeat-prober.js";
import type { LivenessChange } from "../heartbeats/liveness.js";
import type { Redactor } from "../thread-dumps/redact.js";
import { AgentChannel } from "./agent-channel.js";
import {
  AgentAdmission,
  AgentRefusal,
  AgentSlots,
  DEFAULT_ADMISSION,
  type AdmissionOptions,
  type RefusalReason,
} from "./agent-admission.js";
import { adoptAgentWorker, manageAddressOwner, readAnnounce } from "./agent-adopt.js";
import {
  AgentIngest,
  DEFAULT_INGEST_CAPS,
  type IngestCaps,
  type IngestStats,
} from "./agent-ingest.js";

export interface AgentServiceOptions {
  /** Status (sessions, no threads) this often for every agent. */
  statusIntervalMs: number;
  /** Deadline on each status request. */
  statusDeadlineMs: number;
  /** Time a new stream has to send its Announce. */
  announceTimeoutMs: number;
  unresponsiveAfter: number;
  retentionMs: number;
  /** Heartbeat interval, for agents without a Manage address. */
  intervalMs: number;
  /** Token, loopback rule, caps and address trust (defaults: DEFAULT_ADMISSION, no token). */
  admission?: Partial<AdmissionOptions>;
  /** Per-message caps at the ingest boundary (default DEFAULT_INGEST_CAPS). */
  caps?: IngestCaps;
  /** Applied to every string an agent sends, after capping. */
  redact: Redactor;
  /** Who speaks for each id; shared with other worker endpoints. */
  ownership?: WorkerOwnership;
  events?: EventLog;
  log: Logger;
  onLivenessChange?: (worker: FleetWorker, change: LivenessChange) => void;
  /** Counted in /metrics. */
  onRefused?: (reason: RefusalReason) => void;
  onTruncated?: (stats: IngestStats) => void;
}

/** Live agent streams by worker id, for on-demand status and commands. */
export type AgentChannels = Map<string, AgentChannel>;

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
  const admission = new AgentAdmission({ ...DEFAULT_ADMISSION, ...opts.admission });
  const slots = new AgentSlots(admission.opts);
  const ownership = opts.ownership ?? new WorkerOwnership();
  const ingest = new AgentIngest(opts.redact, opts.caps ?? DEFAULT_INGEST_CAPS);
  const counted = (stats: IngestStats) => {
    if (stats.truncatedStrings + stats.droppedItems > 0) opts.onTruncated?.(stats);
  };
  /** Logs, counts and records a refusal; returns the error for the caller to throw. */
  const refuse = (err: unknown, peer: string, workerId?: string): unknown => {
    if (err instanceof AgentRefusal) {
      opts.onRefused?.(err.reason);
      opts.log.warn(
        { peer, worker: workerId, reason: err.reason, code: Code[err.code] },
        `agent refused: ${err.rawMessage}`,
      );
      if (
        workerId &&
        (err.reason === "id_in_use" || err.reason === "kind" || err.reason === "address")
      )
        opts.events?.record({
          workerId,
          kind: "agent",
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
      try {
        admission.admit(host, context.requestHeader.get("authorization"));
        release = slots.take(stream?.session);
      } catch (err) {
        throw refuse(err, peer);
      }
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
          announce = await readAnnounce(iterator, opts.announceTimeoutMs);
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
        const log = opts.log.child({ worker: id, kind: "agent" });
        if (claim.tookOverFrom) {
          log.warn(
            { peer, previous: claim.tookOverFrom.peer },
            "worker id taken over from a dead stream",
          );
          opts.events?.record({
            workerId: id,
            kind: "agent",
            summary: `${id} reconnected from ${peer}; the previous stream (${claim.tookOverFrom.peer}) did not answer a ping and was closed`,
          });
        }
        const channel = new AgentChannel(id);
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
        });
      } finally {
        if (claimedId !== undefined) ownership.release(claimedId, holder);
        release();
      }
    },
  };
}

interface ServeArgs {
  fleet: Fleet;
  prober: HeartbeatProber;
  channels: AgentChannels;
  opts: AgentServiceOptions;
  log: Logger;
  peer: string;
  announce: Awaited<ReturnType<typeof readAnnounce>>;
  channel: AgentChannel;
  iterator: AsyncIterator<ConnectRequest>;
  ingest: AgentIngest;
  counted: (stats: IngestStats) => void;
  /** Aborts when the peer goes away (the handler's context signal). */
  peerGone: AbortSignal;
}

/** One admitted agent stream's life: poll its status, route answers, and say when it ends. */
async function* serveAgent(a: ServeArgs) {
  const { fleet, channels, opts, log, announce, channel, iterator, ingest, counted } = a;
  const worker = adoptAgentWorker(fleet, a.prober, announce, a.peer, opts);
  const id = worker.id;
  const hasManage = announce.manageAddress !== "";
  log.info(
    { pid: announce.pid, host: announce.host, manage: announce.manageAddress, peer: a.peer },
    "agent connected",
  );

  const changed = (change: LivenessChange | undefined) => {
    fleet.changed(id);
    if (change) {
      log[change.to === "healthy" ? "info" : "warn"](
        { from: change.from, to: change.to, reason: change.reason },
        "liveness changed",
      );
      opts.onLivenessChange?.(worker, change);
    }
  };

  const handle = (message: ConnectRequest) => {
    switch (message.message.case) {
      case "status":
        counted(ingest.statusReport(message.message.value));
        channel.onStatus(message.message.value);
        break;
      case "commandResult":
        counted(ingest.commandResult(message.message.value));
        channel.onCommandResult(message.message.value);
        break;
      case "announce":
        log.warn("second Announce on one stream ignored");
        break;
      case undefined:
        log.warn("agent message with no branch ignored");
    }
  };

  // An object, not a let: TypeScript cannot see the reader set it.
  const ended: { reason?: string } = {};
  const reader = (async () => {
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        handle(next.value);
      }
      ended.reason = "agent stream closed by the worker";
    } catch (err) {
      ended.reason = `agent stream broke: ${(err as Error).message}`;
    }
  })();
  const poll = async () => {
    // A stream replaced by the worker's newer one must not judge it any more.
    if (channel.closed) return;
    const started = performance.now();
    try {
      const report = await channel.requestStatus(
        { includeThreads: false, maxFinished: 20 },
        opts.statusDeadlineMs,
      );
      const now = Date.now();
      const rttMs = performance.now() - started;
      if (worker.agent) worker.agent.lastReport = { receivedAtMs: now, rttMs, report };
      if (!hasManage) {
        worker.roundTrips.push(now, rttMs);
        changed(worker.liveness.answered(now));
      } else fleet.changed(id);
    } catch (err) {
      // Evicted or replaced meanwhile: the failure says nothing about the worker.
      if (!hasManage && ended.reason === undefined && channel.closedReason === undefined)
        changed(worker.liveness.missed(Date.now(), (err as Error).message));
    }
  };
  void poll();
  const ticker = setInterval(
    () => void poll(),
    hasManage ? opts.statusIntervalMs : opts.intervalMs,
  );

  const signal = AbortSignal.any([a.peerGone, channel.endedSignal]);
  try {
    for (;;) {
      const out = await channel.outbox.takeAll(signal, 1000);
      if (out === undefined || ended.reason !== undefined) break;
      for (const message of out) yield message;
    }
    // Evicted (taken over) or replaced: tell the peer why, with a status it can act on.
    if (channel.closed && ended.reason === undefined)
      throw new ConnectError(channel.closedReason ?? "agent stream closed", Code.Aborted);
  } finally {
    clearInterval(ticker);
    await Promise.race([reader, new Promise((r) => setTimeout(r, 100))]);
    const reason = ended.reason ?? channel.closedReason ?? "agent stream closed";
    // Only the worker's current stream speaks for it: an older, replaced
    // stream ending late must not mark the reconnected worker gone.
    const current = channels.get(id) === channel;
    channel.close(reason);
    if (current) channels.delete(id);
    if (current && worker.agent) {
      worker.agent.connected = false;
      worker.agent.sinceMs = Date.now();
      worker.agent.closedReason = reason;
    }
    if (current) {
      // What the agent last reported can no longer be vouched for.
      worker.status.sessions = [];
      if (!hasManage) changed(worker.liveness.gone(Date.now(), reason));
      else fleet.changed(id);
    }
    log.info({ reason }, "agent disconnected");
  }
}
