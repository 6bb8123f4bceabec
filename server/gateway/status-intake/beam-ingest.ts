import { create } from "@bufbuild/protobuf";
import { SessionSchema, SessionState, ThreadSchema } from "../../../gen/stallwatch/v1/agent_pb.js";
import {
  SessionViewSchema,
  ThreadDumpViewSchema,
  type SessionView,
  type ThreadDumpView,
} from "../../../gen/stallwatch/v1/fleet_pb.js";
import { randomUUID } from "node:crypto";
import type { BeamAnswer } from "../beam-endpoint/beam-status-service.js";
import type { BeamMetrics } from "../beam-endpoint/beam-metrics.js";
import type { BeamParseLimits, BeamThread, ParsedBeamStatus } from "../beam-text/beam-types.js";
import { parseBeamStatus } from "../beam-text/status-text.js";
import { rawView, readableText } from "./readable-text.js";
import { threadNamesIn } from "./dump-view.js";
import type { BeamStatusSnapshot } from "../fleet/tracked-worker.js";
import type { Redactor } from "../redaction/redact.js";
import type { ObservedThread, ThreadMotionTracker } from "./thread-motion.js";

export interface BeamIngested {
  snapshot: BeamStatusSnapshot;
  dump: ThreadDumpView;
  sessions: SessionView[];
}

/** Characters kept per thread name or frame in the view. */
const MAX_TEXT = 1000;

const clip = (t: string) =>
  t.length > MAX_TEXT ? `${t.slice(0, MAX_TEXT)}… [${t.length - MAX_TEXT} more chars]` : t;

/**
 * One Beam answer, parsed once when it arrives: the raw text (control
 * characters dropped, redacted, kept up to MAX_RAW_VIEW_CHARS), its bundles as sessions linked to their threads,
 * and a dump whose threads carry their motion. Bundles feed the stall rules
 * through their time since transition (Beam's lull clock).
 */
export function ingestBeamAnswer(
  workerId: string,
  answer: BeamAnswer,
  trigger: string,
  motion: ThreadMotionTracker,
  redact: Redactor,
  limits: BeamParseLimits | undefined,
  metrics: BeamMetrics | undefined,
): BeamIngested {
  // Readable first (a NUL inside "pass\0word=" must not hide it from the
  // redactor), then redacted; parsed after redaction, so every field taken
  // from it is redacted too. The raw view keeps a capped copy.
  const text = redact(readableText(answer.text));
  const parsed = parseBeamStatus(text, limits);
  const view = rawView(text);
  const raw = view.text;
  metrics?.text(parsed.format);
  if (parsed.cut.threads > 0) metrics?.cut("threads");
  if (parsed.cut.frames > 0) metrics?.cut("frames");
  if (parsed.cut.lines > 0) metrics?.cut("lines");
  const at = answer.receivedAtMs;

  const bundleOf = new Map<string, ParsedBeamStatus["bundles"][number]>();
  for (const b of parsed.bundles) if (b.trackedThreadKey) bundleOf.set(b.trackedThreadKey, b);
  const byName = parsed.format === "java";
  const linked = (t: BeamThread) => bundleOf.get(byName ? t.name : t.threadId);

  const observed: ObservedThread[] = parsed.threads.map((t) => {
    const bundle = linked(t);
    const lullMs = bundle ? bundle.timeSinceTransitionSec * 1000 : undefined;
    return {
      threadId: t.threadId,
      state: t.state,
      frames: t.frames,
      idle: t.idle,
      neverSuspect: t.statusHandler,
      tracked: bundle !== undefined,
      // A bundle's time since its last transition is Beam's own "not moving" clock.
      ...(lullMs !== undefined || t.blockedForMs !== undefined
        ? { stillForMs: Math.max(lullMs ?? 0, t.blockedForMs ?? 0) }
        : {}),
      ...(lullMs !== undefined && lullMs < motion.thresholdMs ? { movedRecently: true } : {}),
    };
  });
  const moves = motion.observe(observed, at);
  const threads = parsed.threads.map((t) => {
    const m = moves.get(t.threadId);
    const bundle = linked(t);
    return {
      thread: create(ThreadSchema, {
        threadId: t.threadId,
        name: clip(t.name),
        state:
          t.state ||
          (t.statusHandler ? "status handler" : t.idle ? "idle (waiting for work)" : "running"),
        frames: t.frames.map(clip),
        sessionId: bundle?.instructionId ?? "",
      }),
      unchangedSinceMs: BigInt(Math.round(m?.unchangedSinceMs ?? at)),
      notMoving: m?.notMoving ?? false,
    };
  });
  const threadIdOf = (key: string) =>
    key === "" ? "" : byName ? (parsed.threads.find((t) => t.name === key)?.threadId ?? key) : key;
  const truncated =
    answer.cutBytes > 0 || view.cutChars > 0 || parsed.cut.threads > 0 || parsed.cut.frames > 0;
  const dump = create(ThreadDumpViewSchema, {
    id: randomUUID(),
    workerId,
    takenAtMs: BigInt(at),
    source: "beam",
    rawText: raw,
    trigger,
    truncated,
    threads,
  });
  const threadName = threadNamesIn(dump);
  const sessions = parsed.bundles.map((b) => {
    const enteredAt = BigInt(Math.round(at - b.timeSinceTransitionSec * 1000));
    const threadId = threadIdOf(b.trackedThreadKey);
    return create(SessionViewSchema, {
      workerId,
      session: create(SessionSchema, {
        sessionId: clip(b.instructionId),
        state: SessionState.PROCESSING,
        stateEnteredAtMs: enteredAt,
        udfName: clip(b.descriptorId),
        udfFormat: `beam-${parsed.format}`,
        threadId,
        progress: { lastProgressAtMs: enteredAt },
      }),
      threadName: threadName(threadId),
    });
  });
  return {
    dump,
    sessions,
    snapshot: {
      receivedAtMs: at,
      raw,
      truncated,
      error: redact(readableText(answer.error)),
      format: parsed.format,
      bundles: parsed.bundles.map((b) => ({
        instructionId: clip(b.instructionId),
        descriptorId: clip(b.descriptorId),
        trackedThread: clip(b.trackedThread),
        threadId: threadIdOf(b.trackedThreadKey),
        timeSinceTransitionSec: b.timeSinceTransitionSec,
      })),
      unparsed: parsed.unparsed,
      unparsedLines: parsed.unparsedLines,
    },
  };
}
