import type { Session, ThreadDump } from "../../../gen/stallwatch/v1/agent_pb.js";
import { withTimeout, type Clock } from "../../shared/clock/clock.js";
import { SharedCall } from "../dial-out/shared-call.js";
import { formatHarnessStatus, type BeamSdkFormat, type HarnessStatus } from "./sdk-formats.js";
import type { WorkerStatusSource } from "../status-report/status-source.js";
import { oneLine, parseFrame } from "./frames.js";

/** Frames kept per thread when the text must shrink to fit. */
const FRAMES_WHEN_CUT = 16;

/** Live sessions as Beam "active processing bundles". */
export function sessionsAsBundles(sessions: Session[], nowMs: number): HarnessStatus["bundles"] {
  return sessions.map((s) => {
    // A session that never said when it entered its state counts from its start.
    const since = Number(s.stateEnteredAtMs) || Number(s.startedAtMs) || nowMs;
    return {
      instructionId: oneLine(s.sessionId) || "<no id>",
      descriptorId: oneLine(s.udfName || s.udfFormat) || "<unknown udf>",
      threadId: oneLine(s.threadId, 200).replace(/\s+/g, "_"),
      timeSinceTransitionSec: Math.max(0, (nowMs - since) / 1000),
    };
  });
}

/** A `ThreadDump`'s threads in the formatter's terms, every text made one-line safe. */
export function dumpAsThreads(dump: ThreadDump, maxFrames = Infinity): HarnessStatus["threads"] {
  return dump.threads.map((t, i) => ({
    // The header reads the ident up to the first space.
    threadId: oneLine(t.threadId, 200).replace(/\s+/g, "_") || `thread-${i}`,
    name: oneLine(t.name, 200) || oneLine(t.threadId, 200) || `thread-${i}`,
    state: oneLine(t.state, 50),
    frames: t.frames.slice(0, maxFrames).map(parseFrame),
  }));
}

export interface BeamStatusBuilderOptions {
  /** Longest an answer waits for the thread dump before going without it. */
  dumpDeadlineMs: number;
  /** Largest status text; bigger ones lose frames, then the thread dump. */
  maxStatusBytes: number;
  /** Which SDK's text to write (default python). */
  format?: BeamSdkFormat;
  /** Time for the dump deadline and "time since transition" (default: real). */
  clock: Clock;
}

/** One answer to a `WorkerStatusRequest`: text, and what went wrong (empty when nothing). */
export interface BeamStatusAnswer {
  statusInfo: string;
  error: string;
}

/**
 * Builds Beam status text (the chosen SDK's format, see sdk-formats.ts) from a
 * {@link WorkerStatusSource}: live sessions become bundles (instruction id =
 * session id, descriptor = UDF name, tracked thread = the session's thread,
 * time since transition = now − state_entered_at), then the thread dump.
 *
 * Never rejects. A dump that fails or misses its deadline leaves the bundles
 * section standing and is named in `error`; only when even the sessions
 * cannot be had is the answer `error` alone. Concurrent answers share one
 * dump in progress.
 */
export class BeamStatusBuilder {
  private readonly dumps = new SharedCall<ThreadDump>();
  private readonly clock: Clock;

  constructor(
    private readonly source: WorkerStatusSource,
    private readonly opts: BeamStatusBuilderOptions,
  ) {
    this.clock = opts.clock;
  }

  async build(): Promise<BeamStatusAnswer> {
    const errors: string[] = [];
    let dump: ThreadDump | undefined;
    try {
      dump = await withTimeout(
        this.dumps.call(() => this.source.dumpThreads()),
        this.opts.dumpDeadlineMs,
        this.clock,
      );
      if (!dump) errors.push(`thread dump not ready within ${this.opts.dumpDeadlineMs} ms`);
    } catch (err) {
      errors.push(`thread dump failed: ${messageOf(err)}`);
    }
    let bundles: HarnessStatus["bundles"];
    try {
      bundles = sessionsAsBundles(this.source.sessions(), this.clock.now());
    } catch (err) {
      errors.push(`sessions unavailable: ${messageOf(err)}`);
      return { statusInfo: "", error: errors.join("; ") };
    }
    const text = (maxFrames?: number) =>
      formatHarnessStatus(this.opts.format ?? "python", {
        bundles,
        threads: dump ? dumpAsThreads(dump, maxFrames) : [],
        rssBytes: process.memoryUsage.rss(),
      });
    let statusInfo = text();
    const size = Buffer.byteLength(statusInfo);
    if (size > this.opts.maxStatusBytes && dump) {
      statusInfo = text(FRAMES_WHEN_CUT);
      if (Buffer.byteLength(statusInfo) > this.opts.maxStatusBytes) {
        dump = undefined;
        statusInfo = text();
      }
      errors.push(
        `status text of ${size} bytes over the ${this.opts.maxStatusBytes}-byte cap: ` +
          (dump ? `stacks cut to ${FRAMES_WHEN_CUT} frames` : "thread dump left out"),
      );
    }
    return { statusInfo, error: errors.join("; ") };
  }
}

function messageOf(err: unknown): string {
  return oneLine(err instanceof Error ? err.message : String(err), 2000);
}
