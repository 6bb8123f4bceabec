import type { BeamParseLimits } from "./beam-types.js";

/**
 * The first step of every Beam parser, and the only one that sees the whole
 * untrusted text: clip it, drop the NUL padding Go's fixed buffer leaves,
 * split it into lines (LF or CRLF) and clip each line. Everything after this
 * works on lines of bounded length, so no later match can cost more than
 * O(maxLineChars) per line.
 */
export interface Lines {
  lines: string[];
  cutChars: number;
  cutLines: number;
}

export function toLines(text: string, limits: BeamParseLimits): Lines {
  let end = Math.min(text.length, limits.maxChars);
  const cutChars = text.length - end;
  // Go sends its whole 64 KiB buffer: trailing NULs are padding, not text.
  while (end > 0 && text.charCodeAt(end - 1) === 0) end -= 1;
  const body = end === text.length ? text : text.slice(0, end);
  let cutLines = 0;
  const lines = body.split("\n").map((line) => {
    let l = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (l.length > limits.maxLineChars) {
      cutLines += 1;
      l = l.slice(0, limits.maxLineChars);
    }
    return l;
  });
  return { lines, cutChars, cutLines };
}

/** Keeps lines nobody understood, up to a character budget. */
export class Unparsed {
  private readonly kept: string[] = [];
  private chars = 0;
  count = 0;

  constructor(private readonly maxChars: number) {}

  add(line: string): void {
    if (line.trim() === "") return;
    this.count += 1;
    if (this.chars >= this.maxChars) return;
    const room = this.maxChars - this.chars;
    const piece = line.length > room ? `${line.slice(0, room)}…` : line;
    this.kept.push(piece);
    this.chars += piece.length + 1;
  }

  text(): string {
    const more = this.count - this.kept.length;
    return more > 0 ? `${this.kept.join("\n")}\n… ${more} more lines` : this.kept.join("\n");
  }
}

/** Number of `c` characters at the start of `s`. */
export function leading(s: string, c: string): number {
  let i = 0;
  while (i < s.length && s[i] === c) i += 1;
  return i;
}

/** Number of `c` characters at the end of `s`. */
export function trailing(s: string, c: string): number {
  let i = 0;
  while (i < s.length && s[s.length - 1 - i] === c) i += 1;
  return i;
}

/** `s` without leading and trailing runs of `c` and spaces. */
export function stripRuns(s: string, c: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s[a] === c || s[a] === " ")) a += 1;
  while (b > a && (s[b - 1] === c || s[b - 1] === " ")) b -= 1;
  return s.slice(a, b);
}

/** Case-insensitive `startsWith`, returning the rest (trimmed) or undefined. */
export function afterPrefix(line: string, prefix: string): string | undefined {
  if (line.length < prefix.length) return undefined;
  if (line.slice(0, prefix.length).toLowerCase() !== prefix.toLowerCase()) return undefined;
  return line.slice(prefix.length).trim();
}
