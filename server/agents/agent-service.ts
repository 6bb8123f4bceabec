import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { AgentService, Announce, ConnectRequest } from "../../gen/stallwatch/v1/agent_pb.js";
import type { Logger } from "../logging/logger.js";
import { parseHostPort } from "../net/host-port.js";
import { peerAddressKey } from "../net/peer-address.js";
import { createFleetWorker, fleetWorkerOptions, type FleetWorker } from "../fleet/fleet-worker.js";
import type { Fleet } from "../fleet/fleet.js";
import type { HeartbeatProber } from "../heartbeats/heartbeat-prober.js";
import type { LivenessChange } from "../heartbeats/liveness.js";
import type { WorkerOwnership } from "../cluster/worker-ownership.js";
import { AgentChannel } from "./agent-channel.js";

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
  log: Logger;
  onLivenessChange?: (worker: FleetWorker, change: LivenessChange) => void;
  /** Cluster-wide claim on the worker id, asked before adopting (server/cluster). */
  ownership?: WorkerOwnership;
}

/** Live agent streams by worker id, for on-demand status and commands. */
export type AgentChannels = Map<string, AgentChannel>;

/**
 * `AgentService.Connect`: a worker announces itself and keeps the stream
 * open. Workers with a Manage address are also probed with heartbeats (the
 * two paths are judged separately and shown together); workers without one
 * are judged by their status round trips.
 */
export function createAgentService(
  fleet: Fleet,
  prober: HeartbeatProber,
  channels: AgentChannels,
  opts: AgentServiceOptions,
): ServiceImpl<typeof AgentService> {
  return {
    async *connect(requests, context) {
      const iterator = requests[Symbol.asyncIterator]();
      const announce = await readAnnounce(iterator, opts.announceTimeoutMs);
      if (opts.ownership && !(await opts.ownership.claim(announce.workerId))) {
        throw new ConnectError(
          `worker id "${announce.workerId}" is connected to another gateway of this cluster`,
          Code.AlreadyExists,
        );
      }
      const worker = adopt(fleet, prober, announce, context, opts);
      const id = worker.id;
      const log = opts.log.child({ worker: id, kind: "agent" });
      const hasManage = announce.manageAddress !== "";
      const previous = channels.get(id);
      previous?.close("replaced by a new connection from the same worker");
      const channel = new AgentChannel(id);
      channels.set(id, channel);
      log.info(
        { pid: announce.pid, host: announce.host, manage: announce.manageAddress },
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
            channel.onStatus(message.message.value);
            break;
          case "commandResult":
            channel.onCommandResult(message.message.value);
            break;
          case "announce":
            log.warn("second Announce on one stream ignored");
            break;
          case undefined:
            log.warn("agent message with no branch ignored");
        }
      };

      let closedReason: string | undefined;
      const reader = (async () => {
        try {
          for (;;) {
            const next = await iterator.next();
            if (next.done) break;
            handle(next.value);
          }
          closedReason = "agent stream closed by the worker";
        } catch (err) {
          closedReason = `agent stream broke: ${(err as Error).message}`;
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
          if (!hasManage && closedReason === undefined)
            changed(worker.liveness.missed(Date.now(), (err as Error).message));
        }
      };
      void poll();
      const ticker = setInterval(
        () => void poll(),
        hasManage ? opts.statusIntervalMs : opts.intervalMs,
      );

      try {
        for (;;) {
          const out = await channel.outbox.takeAll(context.signal, 1000);
          if (out === undefined || closedReason !== undefined) break;
          for (const message of out) yield message;
        }
      } finally {
        clearInterval(ticker);
        await Promise.race([reader, new Promise((r) => setTimeout(r, 100))]);
        const reason = closedReason ?? "agent stream closed";
        channel.close(reason);
        // Only the worker's current stream speaks for it: an older, replaced
        // stream ending late must not mark the reconnected worker gone.
        const current = channels.get(id) === channel;
        if (current) channels.delete(id);
        if (current)
          opts.ownership?.release(id).catch((err: unknown) => {
            log.warn({ err: (err as Error).message }, "worker id not released");
          });
        if (current && worker.agent) {
          worker.agent.connected = false;
          worker.agent.sinceMs = Date.now();
          worker.agent.closedReason = reason;
        }
        if (current) {
          // What the agent last reported can no longer be vouched for.
          worker.status.sessions = [];
          if (!hasManage) changed(worker.liveness.gone(Date.now(), reason));
          // A broken stream often means a dead worker: ask its Manage now.
          else {
            fleet.changed(id);
            prober.probeNow(id);
          }
        }
        log.info({ reason }, "agent disconnected");
      }
    },
  };
}

async function readAnnounce(
  iterator: AsyncIterator<ConnectRequest>,
  timeoutMs: number,
): Promise<Announce> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ConnectError(`no Announce within ${timeoutMs} ms`, Code.DeadlineExceeded)),
      timeoutMs,
    );
  });
  try {
    const first = await Promise.race([iterator.next(), timeout]);
    if (first.done || first.value.message.case !== "announce") {
      throw new ConnectError(
        "the first message on an agent stream must be Announce",
        Code.InvalidArgument,
      );
    }
    const announce = first.value.message.value;
    if (!/^[\w.:@-]{1,128}$/.test(announce.workerId)) {
      throw new ConnectError(
        "Announce.worker_id must be 1-128 letters, digits or . _ : @ -",
        Code.InvalidArgument,
      );
    }
    if (announce.manageAddress !== "") {
      try {
        parseHostPort(announce.manageAddress);
      } catch (err) {
        throw new ConnectError(
          `Announce.manage_address: ${(err as Error).message}`,
          Code.InvalidArgument,
        );
      }
    }
    return announce;
  } finally {
    clearTimeout(timer);
  }
}

/** Finds or creates the worker's entry and starts its Manage probe when it has one. */
function adopt(
  fleet: Fleet,
  prober: HeartbeatProber,
  announce: Announce,
  context: HandlerContext,
  opts: AgentServiceOptions,
): FleetWorker {
  const peer = context.values.get(peerAddressKey);
  const worker =
    fleet.get(announce.workerId) ??
    createFleetWorker(
      announce.workerId,
      "agent",
      announce.manageAddress || peer,
      fleetWorkerOptions(opts),
      Date.now(),
    );
  worker.kind = "agent";
  worker.agent = { announce, connected: true, sinceMs: Date.now(), closedReason: "" };
  if (!fleet.get(worker.id)) fleet.add(worker);
  if (announce.manageAddress !== "")
    prober.addTarget(parseHostPort(announce.manageAddress), worker);
  else worker.address = peer;
  fleet.changed(worker.id);
  return worker;
}
