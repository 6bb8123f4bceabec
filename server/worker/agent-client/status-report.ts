import { create, toBinary } from "@bufbuild/protobuf";
import {
  StatusReportSchema,
  type StatusReport,
  type StatusRequest,
  type ThreadDump,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import type { WorkerStatusSource } from "../status-report/status-source.js";
import { withTimeout, type Clock } from "../../shared/clock/clock.js";
import { SharedCall } from "../dial-out/shared-call.js";

/** Finished sessions sent at most, whatever the gateway asks for. */
export const MAX_FINISHED = 100;
/** Frames kept per thread when a report must shrink to fit. */
const FRAMES_WHEN_CUT = 32;

/** Limits a {@link StatusReporter} keeps to. */
export interface StatusReporterOptions {
  /** Longest a report waits for the thread dump before going without it. */
  dumpDeadlineMs: number;
  /**
   * Largest encoded report. The gateway refuses bigger messages by failing
   * the whole stream, which would then fail again on every request; so a
   * report that would not fit is cut here (and says so in `error`).
   */
  maxReportBytes: number;
  /** Time for the dump deadline (default: real). */
  clock: Clock;
}

/**
 * Builds `StatusReport`s from a {@link WorkerStatusSource}. Never rejects:
 * whatever part of the status cannot be had (a throwing source, a dump that
 * fails or misses its deadline) is left out and named in `error`, and the
 * rest is still reported.
 *
 * Concurrent requests share one thread dump in progress instead of starting
 * another, so a dump that hangs costs one pending call, not one per request,
 * while each request still waits only its own deadline.
 */
export class StatusReporter {
  private readonly dumps = new SharedCall<ThreadDump>();

  constructor(
    private readonly source: WorkerStatusSource,
    private readonly opts: StatusReporterOptions,
  ) {}

  async report(request: StatusRequest): Promise<StatusReport> {
    const report = create(StatusReportSchema, { requestId: request.requestId });
    const errors: string[] = [];
    if (request.includeThreads) {
      try {
        const dump = await withTimeout(
          this.sharedDump(),
          this.opts.dumpDeadlineMs,
          this.opts.clock,
        );
        if (dump) report.dump = dump;
        else errors.push(`thread dump not ready within ${this.opts.dumpDeadlineMs} ms`);
      } catch (err) {
        errors.push(`thread dump failed: ${messageOf(err)}`);
      }
    }
    // Sessions after the dump, which can take a while: they should be as
    // fresh as the moment the report leaves.
    try {
      report.sessions = this.source.sessions();
    } catch (err) {
      errors.push(`sessions unavailable: ${messageOf(err)}`);
    }
    try {
      const max = Math.min(request.maxFinished, MAX_FINISHED);
      report.finished = max > 0 ? this.source.finished(max).slice(0, max) : [];
    } catch (err) {
      errors.push(`finished sessions unavailable: ${messageOf(err)}`);
    }
    const cut = fitReport(report, this.opts.maxReportBytes);
    if (cut) errors.push(cut);
    report.error = errors.join("; ");
    return report;
  }

  private sharedDump(): Promise<ThreadDump> {
    return this.dumps.call(() => this.source.dumpThreads());
  }
}

/**
 * Shrinks `report` until it encodes to at most `maxBytes`: first stacks are
 * cut to their innermost frames, then the dump goes, then finished sessions,
 * then live sessions from the end. Fields of `report` are replaced, never the
 * objects they held edited. Returns what was cut, or undefined when the
 * report already fit.
 */
export function fitReport(report: StatusReport, maxBytes: number): string | undefined {
  const size = () => toBinary(StatusReportSchema, report).length;
  const original = size();
  if (original <= maxBytes) return undefined;
  const cuts: string[] = [];
  if (report.dump) {
    const frames = report.dump.threads.reduce((n, t) => n + t.frames.length, 0);
    // Copies, never edits: concurrent reports share one dump, and the source
    // may keep the objects it handed out.
    report.dump = {
      ...report.dump,
      threads: report.dump.threads.map((t) =>
        t.frames.length <= FRAMES_WHEN_CUT
          ? t
          : {
              ...t,
              frames: [
                ...t.frames.slice(0, FRAMES_WHEN_CUT),
                `… ${t.frames.length - FRAMES_WHEN_CUT} more frames cut to fit the report size cap`,
              ],
            },
      ),
    };
    if (report.dump.threads.reduce((n, t) => n + t.frames.length, 0) < frames)
      cuts.push(`stacks cut to ${FRAMES_WHEN_CUT} frames`);
    if (size() > maxBytes) {
      report.dump = undefined;
      cuts.push("thread dump left out");
    }
  }
  if (size() > maxBytes && report.finished.length > 0) {
    report.finished = [];
    cuts.push("finished sessions left out");
  }
  if (size() > maxBytes) {
    const live = report.sessions.length;
    while (report.sessions.length > 0 && size() > maxBytes) {
      report.sessions = report.sessions.slice(0, Math.floor(report.sessions.length / 2));
    }
    cuts.push(`${live - report.sessions.length} of ${live} sessions left out`);
  }
  return `report of ${original} bytes over the ${maxBytes}-byte cap: ${cuts.join(", ")}`;
}

function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 2000);
}
