/**
 * What a Beam harness's status text keeps once it enters the gateway, applied
 * once, at ingest (beam-ingest.ts), before redaction, parsing and storage: the
 * characters a reader can use. Go's SDK sends its whole `runtime.Stack`
 * buffer, 63,340 NULs after 2,196 characters of text (issue 19, item 2: a
 * 769 KB `GetWorker`, 760 KB of it `\u0000`, on every call and watch update).
 */

/**
 * Control characters that mean nothing to a reader: C0 except tab and line
 * feed, DEL, C1, zero-width marks, bidirectional overrides (they reorder
 * what a reader sees, "Trojan Source") and the byte order mark.
 */
function unreadable(c: number): boolean {
  return (
    (c < 0x20 && c !== 0x09 && c !== 0x0a) ||
    (c >= 0x7f && c <= 0x9f) ||
    (c >= 0x200b && c <= 0x200f) ||
    (c >= 0x202a && c <= 0x202e) ||
    (c >= 0x2066 && c <= 0x2069) ||
    c === 0xfeff
  );
}

/** Where an ANSI CSI sequence (`ESC [ params final`, a colour) starting at `i` ends, or `i` if none. */
function csiEnd(text: string, i: number): number {
  if (text.charCodeAt(i + 1) !== 0x5b) return i;
  // Bounded like a terminal's parser: a run of parameters, then one final byte.
  const limit = Math.min(text.length, i + 2 + 40);
  for (let j = i + 2; j < limit; j++) {
    const c = text.charCodeAt(j);
    if (c >= 0x40 && c <= 0x7e) return j + 1;
    if (c < 0x20 || c > 0x3f) return i;
  }
  return i;
}

/**
 * The text with every unreadable character gone, in one pass. Line ends
 * become `\n`: CRLF (Windows harnesses) and a lone CR (a carriage return
 * overwrites a terminal line; here it would glue two lines into one) alike.
 * ANSI colour sequences go whole, not only their ESC.
 */
export function readableText(text: string): string {
  let i = 0;
  while (i < text.length && !unreadable(text.charCodeAt(i))) i++;
  if (i === text.length) return text; // the common case: nothing to drop
  // One code unit out per code unit in, at most: a buffer, not a million concatenations.
  const out = new Uint16Array(text.length);
  let n = 0;
  for (let k = 0; k < i; k++) out[n++] = text.charCodeAt(k);
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!unreadable(c)) {
      out[n++] = c;
    } else if (c === 0x0d) {
      out[n++] = 0x0a;
      if (text.charCodeAt(i + 1) === 0x0a) i++;
    } else if (c === 0x1b) {
      const end = csiEnd(text, i);
      if (end > i) i = end - 1;
    }
  }
  return UTF16.decode(out.subarray(0, n));
}

/**
 * Code units back to a string (Uint16Array is little-endian on every platform
 * Node runs here); a lone surrogate becomes U+FFFD, which is what it means.
 */
const UTF16 = new TextDecoder("utf-16le");

/** Characters of status text the raw view keeps (the parser sees all of it). */
export const MAX_RAW_VIEW_CHARS = 256 * 1024;

/**
 * The raw view of a status text: at most `maxChars`, then a visible marker
 * saying how much was cut. `cutChars` > 0 sets the view's `truncated` flag.
 */
export function rawView(
  text: string,
  maxChars = MAX_RAW_VIEW_CHARS,
): { text: string; cutChars: number } {
  if (text.length <= maxChars) return { text, cutChars: 0 };
  const cutChars = text.length - maxChars;
  return {
    text: `${text.slice(0, maxChars)}\n…[truncated ${cutChars} chars: the gateway keeps ${maxChars} of a status text]`,
    cutChars,
  };
}
