import type { BeamBundle, BeamParseLimits, BeamThread } from "./beam-types.js";
import { afterPrefix, leading, stripRuns, trailing } from "./text-lines.js";

/**
 * Python and Java write `status_info` in sections opened by a banner, ten `=`
 * around a title (`========== THREAD DUMP ==========`); Python also closes the
 * bundle and thread sections with a line of `=` only. Banners are recognised
 * by counting characters, never by a regex: a regex with a lazy group between
 * two `=` runs was cubic on a long line of `=` (issue 8).
 */
export type BannerLine = { kind: "open"; title: string } | { kind: "close" } | undefined;

export function banner(line: string): BannerLine {
  const t = line.trim();
  if (t.length < 3 || t[0] !== "=") return undefined;
  const head = leading(t, "=");
  if (head === t.length) return { kind: "close" };
  const tail = trailing(t, "=");
  if (head < 3 || tail < 3) return undefined;
  const title = t.slice(head, t.length - tail).trim();
  return title === "" ? undefined : { kind: "open", title };
}

/** A section: its title and the line numbers of its body. */
export interface Section {
  title: string;
  /** Index of the first body line and one past the last, in the lines array. */
  from: number;
  to: number;
}

/** Splits lines into bannered sections; lines outside any section are returned as `outside`. */
export function splitSections(lines: readonly string[]): {
  sections: Section[];
  outside: number[];
} {
  const sections: Section[] = [];
  const outside: number[] = [];
  let open: { title: string; from: number } | undefined;
  const close = (at: number) => {
    if (open) sections.push({ title: open.title, from: open.from, to: at });
    open = undefined;
  };
  lines.forEach((line, i) => {
    const b = banner(line);
    if (b?.kind === "open") {
      close(i);
      open = { title: b.title, from: i + 1 };
    } else if (b?.kind === "close") close(i);
    else if (!open) outside.push(i);
  });
  close(lines.length);
  return { sections, outside };
}

export function isTitle(section: Section, title: string): boolean {
  return section.title.toUpperCase() === title;
}

/** The ident at the end of Python's thread repr: `<Thread(name, started daemon 1396…)>`. */
export function pythonIdent(repr: string): string {
  let end = repr.length;
  while (end > 0 && (repr[end - 1] === ">" || repr[end - 1] === ")" || repr[end - 1] === " "))
    end -= 1;
  let start = end;
  while (start > 0 && repr.charCodeAt(start - 1) >= 48 && repr.charCodeAt(start - 1) <= 57)
    start -= 1;
  return start < end && repr[start - 1] === " " ? repr.slice(start, end) : "";
}

/**
 * The `ACTIVE PROCESSING BUNDLES` body, both spellings: Python's lower-case
 * `--- instruction X ---` / `tracked thread:` / `time since transition:`
 * and Java's capitalised `---- Instruction X ----` ones. Returns the bundles
 * and the indexes of lines it did not understand.
 */
export function parseBundles(
  lines: readonly string[],
  section: Section,
  linkBy: "python" | "java",
): { bundles: BeamBundle[]; unknown: number[] } {
  const bundles: BeamBundle[] = [];
  const unknown: number[] = [];
  let b: BeamBundle | undefined;
  for (let i = section.from; i < section.to; i++) {
    const line = (lines[i] ?? "").trim();
    if (line === "" || line === "No active processing bundles.") continue;
    let rest: string | undefined;
    if (
      line.startsWith("-") &&
      (rest = afterPrefix(stripRuns(line, "-"), "instruction ")) !== undefined
    ) {
      b = {
        instructionId: rest,
        descriptorId: "",
        trackedThread: "",
        trackedThreadKey: "",
        timeSinceTransitionSec: 0,
      };
      bundles.push(b);
    } else if (b && (rest = afterPrefix(line, "ProcessBundleDescriptorId:")) !== undefined) {
      b.descriptorId = rest;
    } else if (b && (rest = afterPrefix(line, "tracked thread:")) !== undefined) {
      b.trackedThread = rest;
      b.trackedThreadKey = linkBy === "python" ? pythonIdent(rest) : rest === "None" ? "" : rest;
    } else if (b && (rest = afterPrefix(line, "time since transition:")) !== undefined) {
      const seconds = Number.parseFloat(rest);
      b.timeSinceTransitionSec = Number.isFinite(seconds) && seconds >= 0 ? seconds : 0;
    } else unknown.push(i);
  }
  return { bundles, unknown };
}

/**
 * Parses one SDK's thread section into `out`, counting what its caps cut, and
 * returns the indexes of lines it did not understand (kept raw, never guessed).
 */
export type ThreadSectionParser = (
  lines: readonly string[],
  section: Section,
  limits: BeamParseLimits,
  cut: { threads: number; frames: number },
  out: BeamThread[],
) => number[];
