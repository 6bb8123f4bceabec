import {
  defaultBeamParseLimits,
  type BeamBundle,
  type BeamFormat,
  type BeamParseLimits,
  type BeamThread,
  type ParsedBeamStatus,
} from "./beam-types.js";
import { parseGoStatus } from "./go-status.js";
import { parseJavaThreads } from "./java-threads.js";
import { parsePythonThreads } from "./python-threads.js";
import { isTitle, parseBundles, splitSections } from "./sections.js";
import { toLines, Unparsed } from "./text-lines.js";

export type { BeamBundle, BeamFormat, BeamThread, ParsedBeamStatus } from "./beam-types.js";

/** Lines looked at to tell the formats apart. */
const SNIFF_LINES = 400;

/**
 * Which SDK wrote the text, from markers only that SDK writes. Go's text is a
 * bare goroutine dump; Python and Java share banners but spell bundles and
 * thread blocks differently.
 */
export function detectFormat(lines: readonly string[]): BeamFormat {
  let sectioned = false;
  let pythonClose = false;
  const n = Math.min(lines.length, SNIFF_LINES);
  for (let i = 0; i < n; i++) {
    const line = (lines[i] ?? "").trim();
    if (line === "") continue;
    if (line.startsWith("goroutine ") && line.endsWith("]:")) return "go";
    if (line.startsWith("---- Threads (") || line.startsWith("---- Instruction ")) return "java";
    if (line.startsWith("Tracked thread:") || line.startsWith("Time since transition:"))
      return "java";
    if (line.startsWith("--- Thread #") || line.startsWith("--- instruction ")) return "python";
    if (line.startsWith("tracked thread:") || line.startsWith("ProcessBundleDescriptorId:"))
      return "python";
    if (line.startsWith("==========")) {
      const upper = line.toUpperCase();
      if (upper.includes(" MEMORY USAGE ") || upper.includes(" CACHE STATS ")) return "java";
      if (upper.includes(" ACTIVE PROCESSING BUNDLES ") || upper.includes(" THREAD DUMP "))
        sectioned = true;
      if (line.length === 30 && !line.includes(" ")) pythonClose = true;
    }
  }
  if (sectioned) return pythonClose ? "python" : "java";
  return "unknown";
}

/**
 * Parses one status text. Linear in its length (see text-lines.ts), bounded
 * by `limits`, never throws; whatever no parser understood is returned in
 * `unparsed`, and the caller keeps the raw text besides.
 */
export function parseBeamStatus(
  text: string,
  limits: BeamParseLimits = defaultBeamParseLimits,
): ParsedBeamStatus {
  const { lines, cutChars, cutLines } = toLines(text, limits);
  const format = detectFormat(lines);
  const unparsed = new Unparsed(limits.maxUnparsedChars);
  const cut = { threads: 0, frames: 0 };
  const threads: BeamThread[] = [];
  let bundles: BeamBundle[] = [];
  const sectionTitles: string[] = [];

  if (format === "go") {
    for (const i of parseGoStatus(lines, limits, cut, threads)) unparsed.add(lines[i] ?? "");
  } else if (format === "python" || format === "java") {
    const { sections, outside } = splitSections(lines);
    for (const i of outside) unparsed.add(lines[i] ?? "");
    for (const section of sections) {
      sectionTitles.push(section.title);
      let unknown: number[] = [];
      if (isTitle(section, "ACTIVE PROCESSING BUNDLES")) {
        const r = parseBundles(lines, section, format);
        bundles = bundles.concat(r.bundles);
        unknown = r.unknown;
      } else if (isTitle(section, "THREAD DUMP")) {
        unknown =
          format === "python"
            ? parsePythonThreads(lines, section, limits, cut, threads)
            : parseJavaThreads(lines, section, limits, cut, threads);
      } else if (!KNOWN_INFO_SECTIONS.has(section.title.toUpperCase())) {
        // A section we have never seen: show it whole rather than lose it.
        unparsed.add(`[${section.title}]`);
        for (let i = section.from; i < section.to; i++) unparsed.add(lines[i] ?? "");
      }
      for (const i of unknown) unparsed.add(lines[i] ?? "");
    }
  } else {
    for (const line of lines) unparsed.add(line);
  }
  return {
    format,
    bundles,
    threads,
    sections: sectionTitles,
    unparsed: unparsed.text(),
    unparsedLines: unparsed.count,
    cut: { threads: cut.threads, frames: cut.frames, bytes: cutChars, lines: cutLines },
  };
}

/** Sections SDKs write for people (memory, caches, heap): kept in the raw text, not parsed. */
const KNOWN_INFO_SECTIONS = new Set([
  "MEMORY USAGE",
  "CACHE STATS",
  "HEAP DUMP",
  "STATE CACHE STATS",
  "CACHE STATISTICS",
]);
