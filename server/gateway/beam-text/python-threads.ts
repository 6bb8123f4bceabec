import { pythonFrameIdle, STATUS_HANDLER_MARKS } from "./idle-frames.js";
import type { ThreadSectionParser } from "./sections.js";

/**
 * The Python SDK's `THREAD DUMP` body: one block per distinct stack,
 *
 *   --- Thread #<ident> name: <name> ---
 *   --- Thread #<ident> name: <name> and other <n> threads---
 *   threads: [(<ident>, '<name>'), …]
 *     File "<path>", line <n>, in <fn>
 *       <source line>
 *
 * outermost call first. Every member of a group becomes its own thread (so
 * each has its own motion and its bundle), sharing one frames array. Source
 * lines are kept on their frame: `sock.recv(1)` is often the telling part.
 */
export const parsePythonThreads: ThreadSectionParser = (lines, section, limits, cut, out) => {
  const unknown: number[] = [];
  let head: { ident: string; name: string; others: number } | undefined;
  let members: { ident: string; name: string }[] = [];
  let frames: { file: string; line: string; fn: string; source: string }[] = [];

  const flush = () => {
    if (!head) return;
    const innermost = frames[frames.length - 1];
    const idle = innermost
      ? pythonFrameIdle(innermost.file, innermost.fn, innermost.source)
      : false;
    const kept =
      frames.length > limits.maxFramesPerThread ? frames.slice(-limits.maxFramesPerThread) : frames;
    if (kept.length < frames.length) cut.frames += 1;
    const text: string[] = [];
    for (let i = kept.length - 1; i >= 0; i--) {
      const f = kept[i];
      if (f) text.push(`${f.fn} (${f.file}:${f.line})${f.source ? ` — ${f.source}` : ""}`);
    }
    if (kept.length < frames.length) text.push(`… ${frames.length - kept.length} outer frames cut`);
    const handler =
      head.name === STATUS_HANDLER_MARKS.pythonName ||
      frames.some(
        (f) =>
          f.file.endsWith(STATUS_HANDLER_MARKS.pythonFile) && f.fn === "generate_status_response",
      );
    const group = members.length > 0 ? members : [{ ident: head.ident, name: head.name }];
    const unnamed = head.others + 1 - group.length;
    for (const m of group) {
      if (out.length >= limits.maxThreads) {
        cut.threads += 1;
        continue;
      }
      out.push({
        threadId: m.ident,
        name: m.name,
        state: "",
        frames: text,
        idle,
        statusHandler: handler,
      });
    }
    // "and other N threads" without a `threads:` line: the count is all we know.
    if (unnamed > 0 && out.length < limits.maxThreads) {
      out.push({
        threadId: `${head.ident}+${unnamed}`,
        name: `${unnamed} more threads like ${head.name}`,
        state: "",
        frames: text,
        idle,
        statusHandler: handler,
      });
    }
    head = undefined;
    members = [];
    frames = [];
  };

  for (let i = section.from; i < section.to; i++) {
    const raw = lines[i] ?? "";
    const line = raw.trim();
    if (line === "") continue;
    if (line.startsWith("--- Thread #")) {
      flush();
      head = threadHeader(line);
      if (!head) unknown.push(i);
      continue;
    }
    if (!head) {
      unknown.push(i);
      continue;
    }
    if (line.startsWith("threads: [")) {
      members = memberList(line.slice("threads: [".length), limits.maxThreads);
    } else if (line.startsWith('File "')) {
      const f = fileLine(line);
      if (f) frames.push({ ...f, source: "" });
      else unknown.push(i);
    } else {
      const last = frames[frames.length - 1];
      // The source line sits under its File line, indented further.
      if (last && last.source === "" && raw.startsWith("    ")) last.source = line;
      else unknown.push(i);
    }
  }
  flush();
  return unknown;
};

function threadHeader(line: string): { ident: string; name: string; others: number } | undefined {
  let rest = line.slice("--- Thread #".length);
  const space = rest.indexOf(" ");
  if (space <= 0) return undefined;
  const ident = rest.slice(0, space);
  rest = rest.slice(space + 1);
  if (!rest.startsWith("name: ")) return undefined;
  rest = rest.slice("name: ".length);
  let end = rest.length;
  while (end > 0 && rest[end - 1] === "-") end -= 1;
  rest = rest.slice(0, end).trimEnd();
  let others = 0;
  const at = rest.lastIndexOf(" and other ");
  if (at >= 0 && rest.endsWith(" threads")) {
    const n = Number(rest.slice(at + " and other ".length, rest.length - " threads".length));
    if (Number.isInteger(n) && n >= 0) {
      others = n;
      rest = rest.slice(0, at);
    }
  }
  return { ident, name: rest, others };
}

/** `File "<path>", line <n>, in <fn>`: the path may hold anything, so cut from the right. */
function fileLine(line: string): { file: string; line: string; fn: string } | undefined {
  const mark = line.lastIndexOf('", line ');
  if (mark < 0) return undefined;
  const file = line.slice('File "'.length, mark);
  const rest = line.slice(mark + '", line '.length);
  const comma = rest.indexOf(", in ");
  if (comma < 0) return undefined;
  return { file, line: rest.slice(0, comma), fn: rest.slice(comma + ", in ".length) };
}

/** Python's repr of `[(ident, 'name'), …]`, read by one left-to-right scan. */
function memberList(s: string, max: number): { ident: string; name: string }[] {
  const out: { ident: string; name: string }[] = [];
  let i = 0;
  while (i < s.length && out.length < max) {
    const open = s.indexOf("(", i);
    if (open < 0) break;
    const comma = s.indexOf(",", open);
    if (comma < 0) break;
    const ident = s.slice(open + 1, comma).trim();
    let j = comma + 1;
    while (s[j] === " ") j += 1;
    const quote = s[j];
    if (quote !== "'" && quote !== '"') {
      i = comma + 1;
      continue;
    }
    let name = "";
    j += 1;
    while (j < s.length && s[j] !== quote) {
      if (s[j] === "\\" && j + 1 < s.length) j += 1;
      name += s.charAt(j);
      j += 1;
    }
    out.push({ ident, name });
    i = j + 1;
  }
  return out;
}
