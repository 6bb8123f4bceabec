/**
 * Beam SDK harness status text (`WorkerStatusResponse.status_info`), as the
 * Python SDK writes it: sections opened by a banner of `=` around a title and
 * closed by a line of 30 `=`. We parse what we recognise into structure and
 * always keep the raw text, because the format is free text and any SDK may
 * add sections we do not know.
 */

/** One active bundle from the `ACTIVE PROCESSING BUNDLES` section. */
export interface BeamBundle {
  instructionId: string;
  descriptorId: string;
  trackedThread: string;
  /** Seconds since the bundle's last state transition. */
  timeSinceTransitionSec: number;
}

/** One group of threads with an identical stack from the `THREAD DUMP` section. */
export interface BeamThreadGroup {
  /** Ident of the group's first thread. */
  threadId: string;
  name: string;
  /** Every (ident, name) in the group; at least the first thread. */
  members: { ident: string; name: string }[];
  /** Innermost frame first, each as `fn (file:line)`. */
  frames: string[];
}

export interface BeamSection {
  title: string;
  body: string;
}

export interface ParsedBeamStatus {
  sections: BeamSection[];
  bundles: BeamBundle[];
  threads: BeamThreadGroup[];
  /** Lines we could not attribute to a section or structure; never dropped silently. */
  unparsed: number;
}

const OPEN_BANNER = /^={3,}\s*(.*?)\s*={3,}$/;
const CLOSE_BANNER = /^={10,}$/;

/** Splits the text into `=`-bannered sections. */
export function splitSections(text: string): BeamSection[] {
  const sections: BeamSection[] = [];
  let current: { title: string; lines: string[] } | undefined;
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    const open = OPEN_BANNER.exec(trimmed);
    if (open && open[1] !== "" && !CLOSE_BANNER.test(trimmed)) {
      if (current) sections.push({ title: current.title, body: current.lines.join("\n") });
      current = { title: open[1] ?? "", lines: [] };
    } else if (CLOSE_BANNER.test(trimmed)) {
      if (current) sections.push({ title: current.title, body: current.lines.join("\n") });
      current = undefined;
    } else if (current) {
      current.lines.push(line);
    }
  }
  if (current) sections.push({ title: current.title, body: current.lines.join("\n") });
  return sections;
}

/** Parses the bundles section body. */
export function parseBundles(body: string): BeamBundle[] {
  const bundles: BeamBundle[] = [];
  let bundle: Partial<BeamBundle> | undefined;
  const flush = () => {
    if (bundle?.instructionId !== undefined) {
      bundles.push({
        instructionId: bundle.instructionId,
        descriptorId: bundle.descriptorId ?? "",
        trackedThread: bundle.trackedThread ?? "",
        timeSinceTransitionSec: bundle.timeSinceTransitionSec ?? 0,
      });
    }
  };
  for (const raw of body.split("\n")) {
    const line = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^-+\s*Instruction\s+(.+?)\s*-+$/.exec(line))) {
      flush();
      bundle = { instructionId: m[1] ?? "" };
    } else if (bundle && (m = /^ProcessBundleDescriptorId:\s*(.*)$/.exec(line))) {
      bundle.descriptorId = m[1] ?? "";
    } else if (bundle && (m = /^tracked thread:\s*(.*)$/.exec(line))) {
      bundle.trackedThread = m[1] ?? "";
    } else if (bundle && (m = /^time since transition:\s*([\d.]+)\s*seconds?$/.exec(line))) {
      bundle.timeSinceTransitionSec = Number(m[1]);
    }
  }
  flush();
  return bundles;
}

/** Parses the thread dump section body (Python traceback style). */
export function parseThreads(body: string): BeamThreadGroup[] {
  const groups: BeamThreadGroup[] = [];
  let group: BeamThreadGroup | undefined;
  let outermostFirst: string[] = [];
  const flush = () => {
    if (group) {
      group.frames = outermostFirst.reverse();
      groups.push(group);
    }
    outermostFirst = [];
  };
  for (const raw of body.split("\n")) {
    const line = raw.trimEnd();
    let m: RegExpExecArray | null;
    if (
      (m = /^---\s*Thread #(\S+) name: (.*?)(?:\s+and other (\d+) threads)?\s*---$/.exec(
        line.trim(),
      ))
    ) {
      flush();
      const ident = m[1] ?? "";
      const name = m[2] ?? "";
      group = { threadId: ident, name, members: [{ ident, name }], frames: [] };
    } else if (group && (m = /^threads:\s*\[(.*)\]\s*$/.exec(line.trim()))) {
      // Idents are numbers in Python; other harnesses (ours) use names like udf-3.
      const members = [
        ...(m[1] ?? "").matchAll(/\(\s*([^,()\s]+)\s*,\s*'((?:[^'\\]|\\.)*)'\s*\)/g),
      ].map((pair) => ({ ident: pair[1] ?? "", name: (pair[2] ?? "").replace(/\\(.)/g, "$1") }));
      if (members.length > 0) group.members = members;
    } else if (group && (m = /^\s*File "(.*)", line (\d+), in (.*)$/.exec(line))) {
      outermostFirst.push(`${m[3] ?? ""} (${m[1] ?? ""}:${m[2] ?? ""})`);
    }
    // Source lines under a `File` line carry no structure of their own; they
    // stay available in the raw text.
  }
  flush();
  return groups;
}

/** Parses a whole status text. Never throws: unknown text stays in `sections`/raw. */
export function parseBeamStatus(text: string): ParsedBeamStatus {
  const sections = splitSections(text);
  const bundlesSection = sections.find((s) => /ACTIVE PROCESSING BUNDLES/i.test(s.title));
  const threadsSection = sections.find((s) => /THREAD DUMP/i.test(s.title));
  const inSections = sections.reduce((n, s) => n + s.body.split("\n").length + 2, 0);
  return {
    sections,
    bundles: bundlesSection ? parseBundles(bundlesSection.body) : [],
    threads: threadsSection ? parseThreads(threadsSection.body) : [],
    unparsed: Math.max(0, text.split("\n").length - inSections),
  };
}

/** What a harness reports, for the formatter. */
export interface BeamStatusInput {
  bundles: BeamBundle[];
  threads: {
    ident: string;
    name: string;
    frames: { fn: string; file: string; line: number; source?: string }[];
  }[];
}

/**
 * Writes status text the way Beam's Python SDK does, so our reference worker
 * in Beam mode exercises the same parser real harnesses do. Threads with
 * identical stacks are grouped; frames are given innermost first.
 */
export function formatBeamStatus(input: BeamStatusInput): string {
  const out: string[] = [];
  out.push(`${"=".repeat(10)} ACTIVE PROCESSING BUNDLES ${"=".repeat(10)}`);
  if (input.bundles.length === 0) out.push("No active processing bundles.");
  for (const b of [...input.bundles]
    .sort((x, y) => y.timeSinceTransitionSec - x.timeSinceTransitionSec)
    .slice(0, 10)) {
    out.push(`---- Instruction ${b.instructionId} ----`);
    out.push(`ProcessBundleDescriptorId: ${b.descriptorId}`);
    out.push(`tracked thread: ${b.trackedThread}`);
    out.push(`time since transition: ${b.timeSinceTransitionSec.toFixed(2)} seconds`);
  }
  out.push("=".repeat(30));

  const byStack = new Map<string, { members: { ident: string; name: string }[]; stack: string }>();
  for (const t of input.threads) {
    const stack = [...t.frames]
      .reverse()
      .map((f) => `  File "${f.file}", line ${f.line}, in ${f.fn}\n    ${f.source ?? ""}\n`)
      .join("");
    const group = byStack.get(stack) ?? { members: [], stack };
    group.members.push({ ident: t.ident, name: t.name });
    byStack.set(stack, group);
  }
  out.push(`${"=".repeat(10)} THREAD DUMP ${"=".repeat(10)}`);
  for (const { members, stack } of byStack.values()) {
    const first = members[0];
    if (!first) continue;
    const others = members.length > 1 ? `and other ${members.length - 1} threads` : "";
    let trace = `--- Thread #${first.ident} name: ${first.name} ${others}---\n`;
    if (members.length > 1)
      trace += `threads: [${members.map((m) => `(${m.ident}, '${m.name.replace(/[\\']/g, "\\$&")}')`).join(", ")}]\n`;
    out.push(trace + stack);
  }
  out.push("=".repeat(30));
  return out.join("\n");
}
