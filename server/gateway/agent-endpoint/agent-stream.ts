import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ProfileResultSchema, type ConnectRequest } from "../../../gen/stallwatch/v1/agent_pb.js";
import { checkProfileResult } from "./profile-ingest.js";
import { sleep } from "../../shared/clock/clock.js";
import type { Fleet } from "../fleet/fleet.js";
import type { TrackedWorker } from "../fleet/tracked-worker.js";
import type { HeartbeatProber } from "../heartbeats/heartbeat-prober.js";
import type { Logger } from "../../shared/logging/logger.js";
import { AgentRefusal } from "./agent-admission.js";
import { StreamBudget } from "./stream-budget.js";
import { adoptAgentWorker, type readAnnounce } from "./agent-adopt.js";
import type { AgentChannel } from "./agent-channel.js";
import type { AgentIngest, IngestStats } from "./agent-ingest.js";
import type { AgentChannels, AgentServiceOptions } from "./agent-options.js";

export interface ServeArgs {
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
  /** Logs and counts a refusal that ends an admitted stream. */
  refused: (err: AgentRefusal) => void;
  /** Settles when the stream, not joined yet, holds more than its budget allows. */
  overBudget?: Promise<AgentRefusal>;
  /** The worker joined (answered its first status request): its stream is admitted. */
  onJoined?: () => void;
}

/** Answers nobody asked for that one stream may send per 10 s before it is cut off (late answers count too). */
const MAX_UNSOLICITED = 20;
/**
 * A report to a request without threads is sessions only: a few KiB. One over 1 Mi chars
 * of text, or carrying a dump nobody asked for, is a strike; more
 * than MAX_OVERSIZED per minute and the stream is cut off. Each such message
 * costs the gateway's event loop its decode time, which delays heartbeats.
 */
const SESSIONS_REPORT_CHARS = 1 << 20;
const MAX_OVERSIZED = 3;

/**
 * One admitted agent stream's life: ask for status, route answers, and say
 * when it ends. The worker gets its fleet row only once it has answered its
 * first status request (within the status deadline): a stream that announces
 * and then says nothing — a flood of junk connections — costs no row, no
 * probe, no event and no dump, and is closed with DeadlineExceeded.
 */
export async function* serveAgent(a: ServeArgs) {
  const { fleet, channels, opts, log, announce, channel, iterator, ingest, counted } = a;
  const clock = opts.clock;
  const id = announce.workerId;
  const hasManage = announce.manageAddress !== "";
  // Set once the first answer arrived; everything judging the worker waits for it.
  const joined: { worker?: TrackedWorker } = {};

  // Answers nobody asked for are dropped before any work is spent on them; a
  // peer that keeps sending them is cut off (a flood of unsolicited 4 MiB
  // reports would otherwise cost decode and ingest time without end).
  const unsolicited = new StreamBudget(MAX_UNSOLICITED, 10_000, clock);
  const oversized = new StreamBudget(MAX_OVERSIZED, 60_000, clock);
  const handle = (message: ConnectRequest) => {
    const m = message.message;
    if (m.case === "status" || m.case === "commandResult" || m.case === "profileResult") {
      const expected =
        m.case === "status"
          ? channel.awaitsStatus(m.value.requestId)
          : m.case === "profileResult"
            ? channel.awaitsProfile(m.value.commandId)
            : channel.awaitsCommand(m.value.commandId);
      if (!expected) {
        if (unsolicited.strike())
          throw new AgentRefusal(
            "unsolicited",
            `more than ${MAX_UNSOLICITED} answers nobody asked for within 10 s`,
            Code.ResourceExhausted,
          );
        return;
      }
    }
    if (m.case === "status" && channel.statusAskedThreads(m.value.requestId) === false) {
      const unasked = m.value.dump !== undefined;
      if (unasked) delete m.value.dump;
      const stats = ingest.statusReport(m.value);
      counted(stats);
      if (unasked || stats.rawChars > SESSIONS_REPORT_CHARS) {
        log.warn({ rawChars: stats.rawChars, unaskedDump: unasked }, "oversized status report");
        if (oversized.strike())
          throw new AgentRefusal(
            "oversized",
            `more than ${MAX_OVERSIZED} status reports per minute far larger than asked for`,
            Code.ResourceExhausted,
          );
      }
      channel.onStatus(m.value);
      return;
    }
    switch (m.case) {
      case "status":
        counted(ingest.statusReport(m.value));
        channel.onStatus(m.value);
        break;
      case "commandResult":
        counted(ingest.commandResult(m.value));
        channel.onCommandResult(m.value);
        break;
      case "profileResult": {
        const refused = checkProfileResult(m.value);
        if (refused) {
          log.warn({ commandId: m.value.commandId, refused }, "profile result refused");
          channel.onProfileResult(
            create(ProfileResultSchema, { commandId: m.value.commandId, error: refused }),
          );
        } else channel.onProfileResult(m.value);
        break;
      }
      case "announce":
        log.warn("second Announce on one stream ignored");
        break;
      case undefined:
        log.warn("agent message with no branch ignored");
    }
  };

  // An object, not a let: TypeScript cannot see the reader set it.
  const ended: { reason?: string; refusal?: AgentRefusal } = {};
  const reader = (async () => {
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        handle(next.value);
      }
      ended.reason = "agent stream closed by the worker";
    } catch (err) {
      if (err instanceof AgentRefusal) {
        ended.refusal = err;
        a.refused(err);
      }
      ended.reason = `agent stream broke: ${(err as Error).message}`;
    }
  })();
  const poll = async () => {
    // A stream replaced by the worker's newer one must not judge it any more.
    if (channel.closed) return;
    const started = clock.monotonic();
    try {
      const report = await channel.requestStatus(
        { includeThreads: false, maxFinished: 20 },
        opts.statusDeadlineMs,
      );
      const now = clock.now();
      const rttMs = clock.monotonic() - started;
      const worker = (joined.worker ??= join());
      fleet.agentReported(worker, report, rttMs, now);
      // With a Manage address, heartbeats judge liveness; without, these round trips do.
      if (!hasManage) fleet.beatAnswered(worker, now, { rttMs });
    } catch (err) {
      const worker = joined.worker;
      if (!worker) {
        // Never answered: not a worker we can show or judge.
        ended.refusal ??= new AgentRefusal(
          "no_answer",
          `no answer to the first status request within ${opts.statusDeadlineMs} ms`,
          Code.DeadlineExceeded,
        );
        ended.reason ??= ended.refusal.rawMessage;
        a.refused(ended.refusal);
        channel.close(ended.reason);
        return;
      }
      // Evicted or replaced meanwhile: the failure says nothing about the worker.
      if (!hasManage && ended.reason === undefined && channel.closedReason === undefined)
        fleet.beatMissed(worker, clock.now(), (err as Error).message);
    }
  };
  const join = (): TrackedWorker => {
    a.onJoined?.();
    const worker = adoptAgentWorker(fleet, a.prober, announce, a.peer);
    log.info(
      { pid: announce.pid, host: announce.host, manage: announce.manageAddress, peer: a.peer },
      "agent connected",
    );
    return worker;
  };
  // Not joined means the first status request is still out: closing the
  // channel fails it, and poll's catch logs and counts this refusal once.
  void a.overBudget?.then((refusal) => {
    if (joined.worker || ended.reason !== undefined) return;
    ended.refusal = refusal;
    ended.reason = refusal.rawMessage;
    channel.close(refusal.rawMessage);
  });
  void poll();
  const ticker = clock.every(hasManage ? opts.statusIntervalMs : opts.intervalMs, () => {
    if (joined.worker) void poll();
  });

  const signal = AbortSignal.any([a.peerGone, channel.endedSignal]);
  try {
    for (;;) {
      const out = await channel.outbox.takeAll(signal, 1000);
      if (out === undefined || ended.reason !== undefined) break;
      for (const message of out) yield message;
    }
    if (ended.refusal) throw ended.refusal;
    // Evicted (taken over) or replaced: tell the peer why, with a status it can act on.
    if (channel.closed && ended.reason === undefined)
      throw new ConnectError(channel.closedReason ?? "agent stream closed", Code.Aborted);
  } finally {
    ticker.cancel();
    await Promise.race([reader, sleep(clock, 100)]);
    const reason = ended.reason ?? channel.closedReason ?? "agent stream closed";
    // Only the worker's current stream speaks for it: an older, replaced
    // stream ending late must not mark the reconnected worker gone.
    const current = channels.get(id) === channel;
    channel.close(reason);
    if (current) channels.delete(id);
    const worker = joined.worker;
    // A stream that never answered was logged (throttled) as a refusal, if at all.
    if (worker && current) {
      fleet.agentDisconnected(worker, reason);
      if (!hasManage) fleet.connectionLost(worker, clock.now(), reason);
      // A broken stream often means a dead worker: ask its Manage now.
      else a.prober.probeNow(id);
    }
    if (worker) log.info({ reason }, "agent disconnected");
  }
}
