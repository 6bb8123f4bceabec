/** A frame as a thread dump's text names it; `line` 0 = unknown. */
export interface ParsedFrame {
  fn: string;
  file: string;
  line: number;
}

// Each pattern is anchored, without nested quantifiers, on at most 2,000 characters.
/**
 * Ours and V8's: `fn (file:line:col)` or `fn (file:line)`; the Beam text
 * parser's frames add the source line after a dash
 * (`fn (file:line) — chunk = sock.recv(1)`), which is not part of the frame.
 */
const V8 = /^(.*?) \(([^()]*?):(\d+)(?::\d+)?\)(?: — .*)?$/;
/** Java's: `at pkg.Class.method(File.java:123)`. */
const JAVA = /^(?:at )?([\w$.<>]+)\(([^():]*):(\d+)\)$/;
/** Python's traceback: `File "path", line N, in fn`. */
const PYTHON = /^File "([^"]*)", line (\d+), in (.*)$/;

/**
 * Reads one frame line of a thread dump (agent or Beam, innermost first) into
 * function, file and line; a line in no known shape is kept whole as the
 * function, so nothing is lost, only not split.
 */
export function parseFrame(text: string): ParsedFrame {
  const t = text.trim().slice(0, 2000);
  let m = PYTHON.exec(t);
  if (m) return { fn: m[3] ?? "", file: m[1] ?? "", line: Number(m[2]) };
  m = V8.exec(t);
  if (m) return { fn: m[1] ?? "", file: m[2] ?? "", line: Number(m[3]) };
  m = JAVA.exec(t);
  if (m) return { fn: m[1] ?? "", file: m[2] ?? "", line: Number(m[3]) };
  return { fn: t, file: "", line: 0 };
}
