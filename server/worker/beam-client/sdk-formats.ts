import type { BeamFrame } from "./frames.js";

/** The three SDK formats our Beam-mode worker can write (`--beam-format`). */
export type BeamSdkFormat = "python" | "java" | "go";
export const BEAM_SDK_FORMATS: readonly BeamSdkFormat[] = ["python", "java", "go"];

export function isBeamSdkFormat(s: string): s is BeamSdkFormat {
  return (BEAM_SDK_FORMATS as readonly string[]).includes(s);
}

/** What a harness reports, in SDK-neutral terms. */
export interface HarnessStatus {
  bundles: {
    instructionId: string;
    descriptorId: string;
    /** The tracked thread's `threadId` in `threads`; "" when none. */
    threadId: string;
    timeSinceTransitionSec: number;
  }[];
  threads: {
    threadId: string;
    name: string;
    /** Our worker's states: "running", "idle", or anything else (kept). */
    state: string;
    /** Innermost first. */
    frames: BeamFrame[];
  }[];
  /** Resident memory, for Java's MEMORY USAGE section. */
  rssBytes?: number;
}

const BANNER = (title: string) => `${"=".repeat(10)} ${title} ${"=".repeat(10)}`;
/** Beam keeps the ten longest-running bundles. */
const MAX_BUNDLES = 10;

function longestFirst(bundles: HarnessStatus["bundles"]) {
  return [...bundles]
    .sort((a, b) => b.timeSinceTransitionSec - a.timeSinceTransitionSec)
    .slice(0, MAX_BUNDLES);
}

/** Python idents are numbers; ours are `udf-7`, `main-0`: map them to stable numbers. */
export function pythonIdent(threadId: string): string {
  const digits = /(\d{1,9})$/.exec(threadId)?.[1];
  if (digits !== undefined)
    return String(
      139_600_000_000_000 + Number(digits) * 4096 + (threadId.startsWith("main") ? 1 : 0),
    );
  let h = 2166136261;
  for (let i = 0; i < threadId.length; i++)
    h = Math.imul(h ^ threadId.charCodeAt(i), 16777619) >>> 0;
  return String(139_700_000_000_000 + h);
}

/** Groups threads with an identical key, in first-seen order. */
function groupBy<T>(items: T[], key: (t: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const g = groups.get(k);
    if (g) g.push(item);
    else groups.set(k, [item]);
  }
  return [...groups.values()];
}

/** As Beam's Python `FnApiWorkerStatusHandler` writes it (lower-case bundles, tracebacks outermost first). */
export function formatPython(status: HarnessStatus): string {
  const nameOf = new Map(status.threads.map((t) => [t.threadId, t.name]));
  const bundles = [BANNER("ACTIVE PROCESSING BUNDLES")];
  if (status.bundles.length === 0) bundles.push("No active processing bundles.");
  for (const b of longestFirst(status.bundles)) {
    const tracked = b.threadId
      ? `<Thread(${nameOf.get(b.threadId) ?? b.threadId}, started daemon ${pythonIdent(b.threadId)})>`
      : "None";
    bundles.push(
      `--- instruction ${b.instructionId} ---\nProcessBundleDescriptorId: ${b.descriptorId}\n` +
        `tracked thread: ${tracked}\ntime since transition: ${b.timeSinceTransitionSec.toFixed(2)} seconds\n`,
    );
  }
  bundles.push("=".repeat(30));

  const stack = (frames: BeamFrame[]) =>
    [...frames]
      .reverse()
      .map((f) => `  File "${f.file}", line ${f.line}, in ${f.fn}\n`)
      .join("");
  const dump = [BANNER("THREAD DUMP")];
  for (const group of groupBy(status.threads, (t) => stack(t.frames))) {
    const first = group[0];
    if (!first) continue;
    const others = group.length > 1 ? `and other ${group.length - 1} threads` : "";
    let trace = `--- Thread #${pythonIdent(first.threadId)} name: ${first.name} ${others}---\n`;
    if (group.length > 1)
      trace += `threads: [${group.map((t) => `(${pythonIdent(t.threadId)}, '${t.name.replace(/[\\']/g, "\\$&")}')`).join(", ")}]\n`;
    dump.push(trace + stack(first.frames));
  }
  dump.push("=".repeat(30));
  return `${bundles.join("\n")}\n${dump.join("\n")}`;
}

const JAVA_STATES: Record<string, string> = {
  running: "RUNNABLE",
  idle: "WAITING",
  blocked: "BLOCKED",
};

/** As the Java SDK's `BeamFnStatusClient` writes it (Java 17 `Thread.toString()`). */
export function formatJava(status: HarnessStatus): string {
  const nameOf = new Map(status.threads.map((t) => [t.threadId, t.name]));
  const out: string[] = [];
  const mb = Math.round((status.rssBytes ?? 0) / 2 ** 20);
  out.push(
    BANNER("MEMORY USAGE"),
    `used/total/max = ${mb}/${mb}/${mb} MB, GC last/max = 0.00/0.00 %, #pushbacks=0, gc thrashing=false`,
    "",
    "",
  );
  out.push(BANNER("ACTIVE PROCESSING BUNDLES"));
  if (status.bundles.length === 0) out.push("No active processing bundles.");
  for (const b of longestFirst(status.bundles))
    out.push(
      `---- Instruction ${b.instructionId} ----`,
      `Tracked thread: ${b.threadId ? (nameOf.get(b.threadId) ?? b.threadId) : "null"}`,
      `Time since transition: ${b.timeSinceTransitionSec.toFixed(2)} seconds`,
      "",
    );
  out.push("", "", BANNER("THREAD DUMP"));
  const state = (s: string) => JAVA_STATES[s] ?? "RUNNABLE";
  const groups = groupBy(
    status.threads,
    (t) => `${state(t.state)}\n${t.frames.map((f) => `${f.fn}(${f.file}:${f.line})`).join("\n")}`,
  );
  groups.sort((a, b) => b.length - a.length);
  for (const group of groups) {
    const first = group[0];
    if (!first) continue;
    out.push(
      `---- Threads (${group.length}): [${group.map((t) => `Thread[${t.name},5,main]`).join(", ")}] State: ${state(first.state)} Stack: ----`,
      ...first.frames.map((f) => `${f.fn}(${f.file}:${f.line})`),
      "",
      "",
    );
  }
  return out.join("\n");
}

/** As the Go SDK sends it: `runtime.Stack(buf, true)`, the whole 64 KiB buffer, NUL-padded. */
export function formatGo(status: HarnessStatus, bufferBytes = 64 << 10): string {
  const goroutines = status.threads.map((t, i) => {
    const id = /(\d{1,9})$/.exec(t.threadId)?.[1] ?? String(1000 + i);
    const state = t.state === "running" ? "running" : t.state === "idle" ? "select" : t.state;
    const frames = t.frames.map((f) => `${f.fn}(...)\n\t${f.file}:${f.line} +0x0`).join("\n");
    return `goroutine ${t.threadId.startsWith("main") ? 1 : Number(id) + 100} [${state}]:\n${frames}\n`;
  });
  const text = goroutines.join("\n");
  if (!Number.isFinite(bufferBytes)) return text; // no buffer: the whole dump (benchmarks)
  const bytes = Buffer.byteLength(text);
  if (bytes >= bufferBytes) return Buffer.from(text).subarray(0, bufferBytes).toString();
  return text + "\0".repeat(bufferBytes - bytes);
}

export function formatHarnessStatus(format: BeamSdkFormat, status: HarnessStatus): string {
  return format === "java"
    ? formatJava(status)
    : format === "go"
      ? formatGo(status)
      : formatPython(status);
}
