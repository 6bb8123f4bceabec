import { create } from "@bufbuild/protobuf";
import type { StatusReport } from "../../../gen/stallwatch/v1/agent_pb.js";
import { SessionViewSchema, type ThreadDumpView } from "../../../gen/stallwatch/v1/fleet_pb.js";
import type { Clock } from "../../shared/clock/clock.js";
import type { BeamAnswer } from "../beam-endpoint/beam-status-service.js";
import type { BeamMetrics } from "../beam-endpoint/beam-metrics.js";
import type { TrackedWorker } from "../fleet/tracked-worker.js";
import type { Fleet } from "../fleet/fleet.js";
import type { Redactor } from "../redaction/redact.js";
import type { StallWatch } from "../stalls/stall-watch.js";
import { ingestBeamAnswer } from "./beam-ingest.js";
import type { BeamParseLimits } from "../beam-text/beam-types.js";
import { agentDumpView, threadNamesIn } from "./dump-view.js";
import type { SessionTotals } from "./session-totals.js";
import { ThreadMotionTracker } from "./thread-motion.js";

export interface StatusIngestOptions {
  /** A thread stack unchanged this long is "not moving" (default 10 s). */
  notMovingMs?: number;
  /** Caps applied when parsing Beam status text. */
  beamLimits?: BeamParseLimits;
  beamMetrics?: BeamMetrics;
  /** Beam text is redacted here; agent reports were redacted at the agent endpoint. */
  redact: Redactor;
}

/**
 * Turns what a worker answered (an agent's report, a Beam harness's status
 * text, parsed once) into the fleet's sessions and dumps, with each thread's
 * motion, then judges stalls and counts finished sessions.
 */
export class StatusIngest {
  /** Per worker, learned dump after dump; goes with the worker's row. */
  private readonly motion = new WeakMap<TrackedWorker, ThreadMotionTracker>();

  constructor(
    private readonly fleet: Fleet,
    private readonly stalls: StallWatch,
    private readonly totals: SessionTotals,
    private readonly clock: Clock,
    private readonly opts: StatusIngestOptions,
  ) {}

  /** Sessions (and a dump, if present) from an agent report. */
  report(worker: TrackedWorker, report: StatusReport, trigger: string): ThreadDumpView | undefined {
    const now = this.clock.now();
    this.totals.count(worker.id, report.finished);
    const dump = report.dump
      ? agentDumpView(worker.id, report.dump, trigger, this.motionOf(worker), now)
      : undefined;
    // Names from this report's dump, else the latest one (dumps come less often than sessions).
    const threadName = threadNamesIn(dump ?? worker.status.latestDump);
    this.fleet.statusArrived(worker, {
      atMs: now,
      finished: report.finished,
      sessions: report.sessions.map((session) =>
        create(SessionViewSchema, {
          workerId: worker.id,
          session,
          threadName: threadName(session.threadId),
        }),
      ),
      ...(dump ? { dump } : {}),
    });
    this.stalls.judge(worker, now);
    return worker.status.latestDump;
  }

  /** One Beam answer, parsed once on arrival. */
  beam(worker: TrackedWorker, answer: BeamAnswer, trigger: string): ThreadDumpView {
    const got = ingestBeamAnswer(
      worker.id,
      answer,
      trigger,
      this.motionOf(worker),
      this.opts.redact,
      this.opts.beamLimits,
      this.opts.beamMetrics,
    );
    this.fleet.statusArrived(worker, {
      atMs: answer.receivedAtMs,
      sessions: got.sessions,
      dump: got.dump,
      beamStatus: got.snapshot,
    });
    this.stalls.judge(worker, this.clock.now());
    return got.dump;
  }

  private motionOf(worker: TrackedWorker): ThreadMotionTracker {
    let tracker = this.motion.get(worker);
    if (!tracker) {
      tracker = new ThreadMotionTracker(this.opts.notMovingMs ?? 10_000);
      this.motion.set(worker, tracker);
    }
    return tracker;
  }
}
