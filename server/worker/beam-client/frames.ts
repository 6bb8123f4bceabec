/** A stack frame the way Beam's Python-SDK text writes it (`File "…", line N, in fn`). */
export interface BeamFrame {
  fn: string;
  file: string;
  line: number;
}

/** Characters kept per frame: worker text is untrusted and the gateway clips at 1000 too. */
const MAX_FRAME_CHARS = 1000;
/** What we write when a frame carries no file or function. */
const UNKNOWN = "<unknown>";

/**
 * Makes text safe for one line of Beam's line-based format: control
 * characters (a newline in a frame could forge a thread header) become
 * spaces, and the text is clipped.
 */
export function oneLine(text: string, max = MAX_FRAME_CHARS): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what we replace
  const flat = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** `file:line[:col]` (the file may itself hold colons: `node:internal/x`, `file:///a.js`, `C:\a.js`). */
const LOCATION = /^(.+?):(\d+)(?::\d+)?$/;
/** Locations V8 prints without a line number. */
const NO_LINE_LOCATION =
  /^(?:native|<anonymous>|unknown location|index \d+|wasm-function\[\d+\].*)$/;

/**
 * Splits one frame of a `ThreadDump` into function, file and line, as best it
 * can. Understands V8's `fn (file:line:col)` (with or without a leading
 * `at `, `async`, `new`, `[as alias]`), a bare `file:line:col`, and Python's
 * `File "file", line N, in fn`. The column has no place in Beam's format and
 * is dropped. Any other text is kept whole as the function name (file
 * `<unknown>`, line 0): a frame is never dropped or rejected.
 */
export function parseFrame(frame: string): BeamFrame {
  const text = oneLine(frame).replace(/^at\s+/, "");
  if (text === "") return { fn: UNKNOWN, file: UNKNOWN, line: 0 };

  const python = /^File "(.*)", line (\d+), in (.+)$/.exec(text);
  if (python)
    return { fn: python[3] ?? UNKNOWN, file: python[1] || UNKNOWN, line: Number(python[2]) };

  // `fn (location)`: the function is everything before the first " (" whose
  // remainder reads as a location; file paths may contain parentheses.
  if (text.endsWith(")")) {
    for (let at = text.indexOf(" ("); at > 0; at = text.indexOf(" (", at + 1)) {
      const fn = text.slice(0, at).trim();
      const location = text.slice(at + 2, -1).trim();
      const withLine = LOCATION.exec(location);
      if (withLine) return { fn, file: withLine[1] ?? UNKNOWN, line: Number(withLine[2]) };
      if (NO_LINE_LOCATION.test(location)) return { fn, file: location, line: 0 };
    }
  }

  // A bare location (an anonymous function): no spaces, ends in :line[:col].
  const bare = /^(\S+?):(\d+)(?::\d+)?$/.exec(text);
  if (bare) return { fn: "<anonymous>", file: bare[1] ?? UNKNOWN, line: Number(bare[2]) };

  return { fn: text, file: UNKNOWN, line: 0 };
}
