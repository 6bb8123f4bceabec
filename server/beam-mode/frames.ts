/** A stack frame split the way Beam's text format writes it. */
export interface SplitFrame {
  fn: string;
  file: string;
  line: number;
}

/**
 * Splits "fn (file:line:col)" or "fn (file:line)" into parts; any other text
 * is kept whole as the function name (frames are untrusted, never dropped).
 */
export function splitFrame(frame: string): SplitFrame {
  const m = /^(.*?) \((.*?):(\d+)(?::\d+)?\)$/.exec(frame);
  if (!m) return { fn: frame, file: "<unknown>", line: 0 };
  return { fn: m[1] || "<anonymous>", file: m[2] ?? "<unknown>", line: Number(m[3]) };
}
